"""Unprivileged builds on a machine that gives the user no subordinate IDs: the build still
works where one ID is enough (files stored as root's), and a package manager's failure is
explained."""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from build_support import BUSYBOX_HEADER, partition_listing
from conftest import JUPYTAINER

LONE_USER = "jupytainer-nosubid"


@pytest.fixture
def lone_user():
    """A user with no line in /etc/subuid or /etc/subgid, and a directory it owns."""
    if os.geteuid() != 0:
        pytest.skip("the suite must run as root to create users")
    try:
        pwd.getpwnam(LONE_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", LONE_USER], check=True)
    for table in (Path("/etc/subuid"), Path("/etc/subgid")):
        kept = [line for line in table.read_text().splitlines()
                if not line.startswith(f"{LONE_USER}:")]
        table.write_text("".join(f"{line}\n" for line in kept))
    workdir = Path(tempfile.mkdtemp(prefix="jupytainer-lone-", dir="/tmp"))
    os.chmod(workdir, 0o755)
    shutil.chown(workdir, LONE_USER)
    yield LONE_USER, workdir
    shutil.rmtree(workdir, ignore_errors=True)


def _build(user: str, workdir: Path, text: str) -> subprocess.CompletedProcess:
    (workdir / "image.def").write_text(text)
    return subprocess.run(["runuser", "-u", user, "--", str(JUPYTAINER), "build",
                           str(workdir / "image.sif"), str(workdir / "image.def")],
                          cwd=workdir, capture_output=True, text=True, timeout=300,
                          env={"PATH": os.environ["PATH"], "HOME": str(workdir)})


def test_files_are_stored_as_root_without_subordinate_ids(lone_user):
    user, workdir = lone_user
    result = _build(user, workdir, BUSYBOX_HEADER + "%post\n    touch /made-in-post\n")

    assert result.returncode == 0, result.stderr
    assert "INFO:    User not listed in /etc/subuid, trying root-mapped namespace" in result.stderr
    listing = partition_listing(workdir / "image.sif")
    assert "squashfs-root/made-in-post" in listing
    assert {line.split()[1] for line in listing.splitlines() if line} == {"root/root"}


def test_debootstrap_failure_explains_missing_subordinate_ids(lone_user):
    user, workdir = lone_user
    result = _build(user, workdir, "Bootstrap: debootstrap\nOSVersion: bookworm\n"
                    "MirrorURL: http://127.0.0.1:9/debian\n")

    assert result.returncode == 255
    assert f"there are no subordinate IDs for {user}" in result.stderr
    assert "usermod --add-subuids" in result.stderr
    assert not (workdir / "image.sif").exists()


def test_post_failure_mentions_missing_subordinate_ids(lone_user):
    user, workdir = lone_user
    result = _build(user, workdir, BUSYBOX_HEADER + "%post\n    chown 1000 /bin\n")

    assert result.returncode == 255
    assert "%post failed with exit status 1" in result.stderr
    assert "if a package manager failed: there are no subordinate IDs" in result.stderr


def test_unreadable_target_directory_is_one_line(lone_user):
    user, workdir = lone_user
    (workdir / "image.def").write_text("Bootstrap: scratch\n")
    result = subprocess.run(["runuser", "-u", user, "--", str(JUPYTAINER), "build",
                             "/root/forbidden/image.sif", str(workdir / "image.def")],
                            capture_output=True, text=True, cwd=workdir)

    assert result.returncode == 255
    assert "FATAL:   cannot build /root/forbidden/image.sif: permission denied" in result.stderr
    assert "Traceback" not in result.stderr
