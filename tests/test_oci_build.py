"""The builder's `Bootstrap: docker` agent on the OCI module, end to end: a busybox image
pushed to the local registry becomes a SIF whose runscript and environment are the image's."""

from pathlib import Path

import pytest

from oci_images import Config, Layer, Layout, directory, file, symlink

BUSYBOX = Path("/bin/busybox")


@pytest.fixture(scope="module")
def busybox_image(registry, tmp_path_factory):
    layout = Layout(tmp_path_factory.mktemp("busybox") / "layout")
    tools = [symlink(f"bin/{name}", "busybox") for name in ("sh", "echo", "cat")]
    layer = Layer([directory("bin"), file("bin/busybox", BUSYBOX.read_bytes(), 0o755), *tools])
    config = Config(entrypoint=["/bin/echo", "image says:"], cmd=["$HOME stays literal"],
                    env=["PATH=/bin", "MESSAGE=costs $5 `today`"])
    layout.tag(layout.image([layer], config), "v1")
    registry.push(layout.path, "v1", "tests/busybox")
    return registry.host


@pytest.mark.slow
def test_bootstrap_docker_builds_a_sif_that_runs_the_image(identity, busybox_image):
    definition = identity.workdir / "image.def"
    definition.write_text(f"Bootstrap: docker\nRegistry: {busybox_image}\nNamespace: tests\n"
                          "From: busybox:v1\n\n%post\n    echo built > /built\n")
    image = identity.workdir / "image.sif"
    env = {"JUPYTAINER_CACHEDIR": str(identity.workdir / "cache")}
    built = identity.jupytainer("build", image, definition, env=env, timeout=300)
    assert built.returncode == 0, built.stderr
    assert "layer 1/1: " in built.stderr

    ran = identity.jupytainer("run", image, env=env)
    assert (ran.returncode, ran.stdout) == (0, "image says: $HOME stays literal\n"), ran.stderr
    overridden = identity.jupytainer("run", image, "other", "words", env=env)
    assert overridden.stdout == "image says: other words\n"
    shown = identity.jupytainer("exec", image, "sh", "-c", 'echo "$MESSAGE"; cat /built',
                                env=env)
    assert shown.stdout == "costs $5 `today`\nbuilt\n", shown.stderr
