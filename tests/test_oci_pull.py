"""`jupytainer pull`: images from the local registry and from archives saved as SIF files
(or sandboxes) that run, with Apptainer's default names and refusals."""

import pytest

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
        "oci:, oci-archive:, docker-archive:" in result.stderr


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
])
def test_default_names(source, sandbox, expected):
    from jupytainer.runtime.cli.pull import default_name
    assert default_name(source, sandbox) == expected
