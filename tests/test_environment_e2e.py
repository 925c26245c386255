"""The composed environment seen from inside real containers (`jupytainer exec IMAGE cat
/proc/self/environ`) as root and as an unprivileged user, on busybox images made here and on
the Apptainer-built busybox SIF."""

import shutil
from pathlib import Path

import pytest

from image_support import busybox_root, sif_from_root

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
IMAGE_ENV = {
    "90-environment.sh": "#!/bin/sh\nexport FOO=image\nexport FROM_IMAGE=yes\n",
    "99-base.sh": '#!/bin/sh\nLD_LIBRARY_PATH="/.singularity.d/libs"\nexport LD_LIBRARY_PATH\n',
}
HOST = {"FOO": "host", "ONLY_HOST": "a b\nc", "PATH": "/host/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LD_LIBRARY_PATH": "/host/lib", "APPTAINERENV_FROM_OVERRIDE": "home=$HOME",
        "APPTAINERENV_PREPEND_PATH": "/first"}


def made_busybox(identity, kind: str) -> Path:
    """A busybox image made here whose %environment sets FOO and FROM_IMAGE."""
    root = busybox_root(identity.workdir / "root", env=IMAGE_ENV)
    return root if kind == "sandbox" else sif_from_root(root, identity.workdir / "busybox.sif")


@pytest.fixture(params=["sandbox", "sif"])
def made_image(request, identity) -> Path:
    return made_busybox(identity, request.param)


@pytest.fixture(params=["sandbox", "sif", "apptainer sif"])
def image(request, identity) -> Path:
    """A busybox image the identity can read: made here, or the Apptainer-built one."""
    if request.param == "apptainer sif":
        return reference_copy(identity, request.getfixturevalue("shared_reference"))
    return made_busybox(identity, request.param)


def reference_copy(identity, shared_reference: Path) -> Path:
    copy = identity.workdir / "busybox_amd64.sif"
    shutil.copyfile(shared_reference / "sif-images" / "busybox_amd64.sif", copy)
    copy.chmod(0o644)
    return copy


def container_env(identity, *args, env: dict[str, str] | None = None) -> dict[str, str]:
    result = identity.jupytainer("exec", *args, "cat", "/proc/self/environ", env=env)
    assert result.returncode == 0, result.stderr
    return dict(entry.split("=", 1) for entry in result.stdout.split("\0")[:-1])


@pytest.mark.slow
def test_exec_shows_the_composed_environment(identity, image):
    seen = container_env(identity, image, env=HOST)

    assert seen["ONLY_HOST"] == "a b\nc"
    assert seen["HOME"] == str(identity.home)
    assert seen["FROM_OVERRIDE"] == f"home={identity.home}"
    assert seen["PATH"] == f"/first:{DEFAULT_PATH}"
    assert seen["LD_LIBRARY_PATH"] == "/.singularity.d/libs"
    assert seen["APPTAINER_CONTAINER"] == seen["SINGULARITY_CONTAINER"] == str(image)
    assert seen["APPTAINER_NAME"] == image.name
    assert seen["APPTAINER_COMMAND"] == "exec"
    assert not [key for key in seen if key.startswith(("APPTAINERENV_", "JUPYTAINER_ENV"))]


@pytest.mark.slow
def test_image_environment_beats_host_and_env_beats_image(identity, made_image):
    plain = container_env(identity, made_image, env=HOST)
    overridden = container_env(identity, "--env", "FOO=cli", made_image, env=HOST)

    assert (plain["FOO"], plain["FROM_IMAGE"]) == ("image", "yes")
    assert overridden["FOO"] == "cli"


@pytest.mark.slow
def test_cleanenv_and_env_file(identity, image):
    env_file = identity.workdir / "vars.env"
    env_file.write_text('GREETING="hello $USER"\nFOO=file\n')
    env_file.chmod(0o644)

    seen = container_env(identity, "--cleanenv", "--env-file", env_file, "--env", "FOO=cli",
                         image, env={**HOST, "TERM": "dumb"})

    assert "ONLY_HOST" not in seen
    assert (seen["LANG"], seen["TERM"], seen["FOO"]) == ("C", "dumb", "cli")
    assert seen["GREETING"] == f"hello {identity.name}"


@pytest.mark.slow
def test_run_passes_arguments_to_the_runscript(identity, shared_reference):
    image = reference_copy(identity, shared_reference)

    result = identity.jupytainer("run", image, "echo", "two  spaces", "$HOME")

    assert (result.returncode, result.stdout) == (0, f"two  spaces {identity.home}\n")


@pytest.fixture
def shell_less_image(identity) -> Path:
    """A sandbox with busybox but no /bin/sh: its env scripts cannot be sourced."""
    root = busybox_root(identity.workdir / "nosh", env=IMAGE_ENV)
    for link in (root / "bin").iterdir():
        if link.is_symlink():
            link.unlink()
    return root


@pytest.mark.slow
def test_image_without_sh_runs_exec_directly(identity, shell_less_image):
    result = identity.jupytainer("exec", "--env", "SPACED=a  b $HOME", shell_less_image,
                                 "/bin/busybox", "cat", "/proc/self/environ", env=HOST)
    seen = dict(entry.split("=", 1) for entry in result.stdout.split("\0")[:-1])

    assert result.returncode == 0, result.stderr
    assert (seen["SPACED"], seen["FOO"], seen["APPTAINER_COMMAND"]) == (
        "a  b $HOME", "host", "exec")
    assert seen["PATH"] == f"/first:{DEFAULT_PATH}"
    assert "FROM_IMAGE" not in seen


@pytest.mark.slow
def test_image_without_sh_cannot_run(identity, shell_less_image):
    result = identity.jupytainer("run", shell_less_image)

    assert result.returncode == 255
    assert result.stderr == ("FATAL:   cannot run: the image has no /bin/sh to run its "
                             "scripts; use 'jupytainer exec IMAGE COMMAND'\n")


@pytest.mark.slow
def test_test_without_a_test_script_says_so(identity, shared_reference):
    result = identity.jupytainer("test", reference_copy(identity, shared_reference))

    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "INFO:    No test script found in container, exiting\n"
