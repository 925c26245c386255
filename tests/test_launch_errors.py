"""Mistakes a user meets when starting a container: each is one FATAL line saying what to
do, exit status 255, and nothing left mounted or running (checked after every test)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import JUPYTAINER

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")

TESTS = Path(__file__).parent


def assert_one_fatal_line(result, *words: str) -> None:
    assert result.returncode == 255, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("FATAL:   ")
    for word in words:
        assert word in lines[0]


def test_missing_image(identity):
    result = identity.jupytainer("exec", identity.workdir / "absent.sif", "true")
    assert_one_fatal_line(result, "absent.sif does not exist")


def test_image_behind_a_closed_folder(identity, tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    (closed / "notes.txt").write_text("not an image\n")
    result = identity.jupytainer("exec", closed / "notes.txt", "true")
    if identity.is_root:
        assert_one_fatal_line(result, "is not a SIF image")
    else:
        assert_one_fatal_line(result, "permission denied on a folder of its path")


def test_file_that_is_not_an_image(identity, images):
    result = identity.jupytainer("exec", images.not_sif, "true")
    assert_one_fatal_line(result, "is not a SIF image")


def test_sif_without_a_primary_partition(identity, images):
    result = identity.jupytainer("run", images.no_partition_sif)
    assert_one_fatal_line(result, "no primary system partition")


def test_sif_for_another_architecture(identity, images):
    result = identity.jupytainer("exec", images.arm64_sif, "true")
    assert_one_fatal_line(result, "built for arm64", "use an image built for amd64")


def test_bind_source_missing(identity, images):
    result = identity.jupytainer("exec", "-B", "/nonexistent/data:/mnt/data", images.sif,
                                 "true")
    assert_one_fatal_line(result, "bind source /nonexistent/data does not exist")


@pytest.mark.parametrize("kind", ["sandbox", "sif"])
def test_bind_destination_missing_in_a_read_only_image(identity, images, kind):
    image = images.kind(kind)
    refused = identity.jupytainer("exec", "-B", f"{identity.workdir}:/not/there", image,
                                  "true")
    assert_one_fatal_line(refused, "bind destination /not/there does not exist",
                          "--writable-tmpfs")
    created = identity.jupytainer("exec", "--writable-tmpfs", "-B",
                                  f"{identity.workdir}:/not/there", image, "ls", "/not")
    assert (created.returncode, created.stdout) == (0, "there\n"), created.stderr


def test_working_directory_reached_through_a_symlink_in_the_image(identity, images):
    """The image links /srv to /mnt: a caller in /srv/... would land elsewhere inside."""
    sandbox = identity.workdir / "linked"
    shutil.copytree(images.sandbox, sandbox, symlinks=True)
    (sandbox / "srv").rmdir()
    (sandbox / "srv").symlink_to("mnt")
    workdir = Path("/srv") / f"jupytainer-cwd-{identity.name}-{os.getpid()}"
    workdir.mkdir(exist_ok=True)
    identity.make_owned(workdir)
    try:
        result = identity.jupytainer("exec", sandbox, "pwd", cwd=workdir)
        assert_one_fatal_line(result, f"working directory {workdir} is reached through a "
                              "symlink", "--pwd")
    finally:
        workdir.rmdir()


def test_no_fuse_and_no_room_in_the_cache(identity, images):
    """Without a usable /dev/fuse a user's SIF is extracted; a full cache is an error.
    (Root extracts only with --unsquash.) The machine's /dev/fuse is hidden only in a
    mount namespace of this test's own."""
    cache = identity.workdir / "cache"
    cache.mkdir()
    blocker = identity.workdir / "no-fuse"
    blocker.write_text("")
    blocker.chmod(0)
    # Runs the command, then lists what the full cache holds as finished entries.
    hide_fuse_and_fill = (
        'mount --bind "$1" /dev/fuse && mount -t tmpfs -o size=16k,mode=0777 full "$2" '
        '&& cache="$2" && shift 2 && { "$@"; status=$?; '
        'ls "$cache/cache/sandbox" 2>/dev/null; exit $status; }')
    unsquash = ["--unsquash"] if identity.is_root else []
    command = ["unshare", "-m", "--propagation", "private", "sh", "-c", hide_fuse_and_fill,
               "sh", str(blocker), str(cache),
               *identity.command([str(JUPYTAINER), "exec", *unsquash, str(images.sif),
                                  "true"])]
    env = identity.environment({"APPTAINER_CACHEDIR": str(cache)})
    result = subprocess.run(command, env=env, cwd=identity.workdir, capture_output=True,
                            text=True, timeout=120, check=False)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("INFO:")]
    assert result.returncode == 255, result.stderr
    assert len(lines) == 1 and "no space" in lines[0] and "APPTAINER_CACHEDIR" in lines[0]
    assert result.stdout == ""  # nothing half-extracted under a final name


def test_user_namespaces_disabled(identity, images):
    """Only a user needs them: root still runs, a user is told what to ask for."""
    command = [sys.executable, str(TESTS / "without_userns.py"),
               *identity.command([str(JUPYTAINER), "exec", str(images.sif), "echo", "ran"])]
    result = subprocess.run(command, env=identity.environment(), cwd=identity.workdir,
                            capture_output=True, text=True, timeout=120, check=False)
    if identity.is_root:
        assert (result.returncode, result.stdout) == (0, "ran\n"), result.stderr
    else:
        assert_one_fatal_line(result, "unprivileged user namespaces are disabled",
                              "user.max_user_namespaces")


def test_command_not_found_in_the_image(identity, images):
    result = identity.jupytainer("exec", images.sif, "no-such-command")
    assert result.returncode == 127
    assert "no-such-command" in result.stderr


def test_writable_needs_a_sandbox(identity, images):
    result = identity.jupytainer("exec", "--writable", images.sif, "true")
    assert_one_fatal_line(result, "read-only SIF image", "--writable-tmpfs")
