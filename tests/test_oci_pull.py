"""`jupytainer pull`: images from the local registry and from archives saved as SIF files
(or sandboxes) that run, with Apptainer's default names and refusals."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import JUPYTAINER
from oci_images import Config, Layer, Layout, directory, file, symlink

BUSYBOX_LAYER = Layer([directory("bin"), file("bin/busybox", open("/bin/busybox", "rb").read(),
                                              0o755), symlink("bin/sh", "busybox"),
                       symlink("bin/echo", "busybox"), symlink("bin/cat", "busybox")])


@pytest.fixture(scope="module")
def pullable(registry, tmp_path_factory):
    layout = Layout(tmp_path_factory.mktemp("pull") / "layout")
    config = Config(cmd=["/bin/echo", "pulled"], env=["PATH=/bin"])
    layout.tag(layout.image([BUSYBOX_LAYER, Layer([file("etc/marker", "second layer")])],
                            config), "1.0")
    registry.push(layout.path, "1.0", "tools/echoer")
    return f"docker://{registry.host}/tools/echoer:1.0"


def pull(identity, *args):
    env = {"JUPYTAINER_CACHEDIR": str(identity.workdir / "cache")}
    return identity.jupytainer("pull", *args, env=env, timeout=300)


@pytest.mark.slow
def test_pull_writes_a_sif_named_after_the_image(identity, pullable):
    result = pull(identity, pullable)
    assert result.returncode == 0, result.stderr
    image = identity.workdir / "echoer_1.0.sif"
    ran = identity.jupytainer("run", image)
    assert (ran.returncode, ran.stdout) == (0, "pulled\n"), ran.stderr
    marker = identity.jupytainer("exec", image, "cat", "/etc/marker")
    assert marker.stdout == "second layer"


@pytest.mark.slow
def test_pull_to_a_named_sandbox(identity, pullable):
    result = pull(identity, "--sandbox", identity.workdir / "tree", pullable)
    assert result.returncode == 0, result.stderr
    assert (identity.workdir / "tree/etc/marker").read_text() == "second layer"
    assert (identity.workdir / "tree/.singularity.d/runscript").is_file()


def test_pull_refuses_to_overwrite(identity, pullable):
    (identity.workdir / "echoer_1.0.sif").write_text("precious")
    result = pull(identity, pullable)
    assert result.returncode == 255
    assert f"FATAL:   image file already exists: '{identity.workdir}/echoer_1.0.sif' - will " \
        "not overwrite (use --force to replace it)" in result.stderr
    assert (identity.workdir / "echoer_1.0.sif").read_text() == "precious"


def test_pull_names_what_it_cannot_pull(identity):
    result = pull(identity, "library://alpine")
    assert result.returncode == 255
    assert "FATAL:   cannot pull 'library://alpine': give a source starting with docker://, " \
        "oci:, oci-archive:, docker-archive:, oras://" in result.stderr


def test_pull_of_a_missing_image_fails_cleanly(identity, registry):
    result = pull(identity, f"docker://{registry.host}/tools/absent:1")
    assert result.returncode == 255
    assert f"FATAL:   image {registry.host}/tools/absent:1 not found" in result.stderr
    assert not (identity.workdir / "absent_1.sif").exists()


@pytest.mark.parametrize("source, sandbox, expected", [
    ("docker://alpine", False, "alpine_latest.sif"),
    ("docker://ghcr.io/org/tool:1.2", False, "tool_1.2.sif"),
    ("docker://ghcr.io/org/tool@sha256:" + "ab" * 32, False, "tool_abababababab.sif"),
    ("oci-archive:/data/image.tar", False, "image.sif"),
    ("oci:/data/layout:v1", True, "layout"),
    ("oras://127.0.0.1:5000/sifs/tool:2", False, "tool_2.sif"),
])
def test_default_names(source, sandbox, expected):
    from jupytainer.runtime.cli.pull import default_name
    assert default_name(source, sandbox) == expected


# SIF files as ORAS artifacts ------------------------------------------------------------------

@pytest.fixture(scope="module")
def sif_file(pullable):
    """A SIF built by pulling the registry image, where both identities can read it."""
    folder = Path(tempfile.mkdtemp(prefix="jupytainer-oras-", dir="/tmp"))
    folder.chmod(0o755)
    result = subprocess.run([str(JUPYTAINER), "-q", "pull", str(folder / "echoer.sif"),
                             pullable], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    yield folder / "echoer.sif"
    shutil.rmtree(folder)


@pytest.mark.slow
def test_oras_push_then_pull_round_trips_a_sif(identity, sif_file, registry):
    uri = f"oras://{registry.host}/sifs/{identity.name}:v1"
    pushed = identity.jupytainer("push", sif_file, uri)
    assert pushed.returncode == 0, pushed.stderr
    assert f"INFO:    Upload complete: {uri} (sha256:" in pushed.stderr
    result = pull(identity, uri)
    assert result.returncode == 0, result.stderr
    pulled = identity.workdir / f"{identity.name}_v1.sif"
    assert pulled.read_bytes() == sif_file.read_bytes()
    ran = identity.jupytainer("run", pulled)
    assert ran.stdout == "pulled\n", ran.stderr


def test_oras_push_with_basic_auth(identity, sif_file, auth_registry):
    uri = f"oras://{auth_registry.host}/sifs/private:v1"
    refused = identity.jupytainer("push", sif_file, uri)
    assert refused.returncode == 255
    assert f"FATAL:   {auth_registry.host} requires authentication for sifs/private" \
        in refused.stderr
    env = {"APPTAINER_DOCKER_USERNAME": auth_registry.user,
           "APPTAINER_DOCKER_PASSWORD": auth_registry.password}
    pushed = identity.jupytainer("push", sif_file, uri, env=env)
    assert pushed.returncode == 0, pushed.stderr


def test_oras_push_of_a_missing_file(identity, registry):
    result = identity.jupytainer("push", identity.workdir / "absent.sif",
                                 f"oras://{registry.host}/sifs/absent:1")
    assert result.returncode == 255
    assert f"FATAL:   cannot read {identity.workdir}/absent.sif: No such file or directory" \
        in result.stderr


def test_oras_push_refuses_a_file_that_is_not_a_sif(identity, registry):
    junk = identity.workdir / "junk.sif"
    junk.write_text("not a sif")
    result = identity.jupytainer("push", junk, f"oras://{registry.host}/sifs/junk:1")
    assert result.returncode == 255
    assert f"FATAL:   {junk} is not a valid SIF image (" in result.stderr


def test_oras_pull_of_a_container_image_says_to_use_docker(identity, pullable, registry):
    uri = pullable.replace("docker://", "oras://")
    result = pull(identity, uri)
    assert result.returncode == 255
    assert "is not a SIF artifact (no layer of type application/vnd.sylabs.sif.layer.v1.sif)" \
        ": pull it with docker:// instead" in result.stderr
    assert not list(identity.workdir.glob("*.sif"))


def test_docker_pull_of_a_sif_artifact_says_to_use_oras(identity, sif_file, registry):
    uri = f"oras://{registry.host}/sifs/{identity.name}-artifact:v1"
    assert identity.jupytainer("push", sif_file, uri).returncode == 0

    result = pull(identity, uri.replace("oras://", "docker://"))

    assert result.returncode == 255
    assert result.stderr.splitlines()[-1].endswith(
        "is a SIF file stored as an ORAS artifact, not a container image: pull it with "
        f"{uri} instead")
    assert not list(identity.workdir.glob("*.sif"))
