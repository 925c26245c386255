"""What a build from an OCI image adds to the SIF, as Apptainer's does: the image config as
an `oci-config.json` object after `inspect-metadata.json`, and the base image's name and
digest as labels."""

import json

import pytest

from build_support import objects
from jupytainer.runtime.sif import DataType
from test_oci_build import busybox_image  # noqa: F401 (a fixture)


@pytest.mark.slow
def test_oci_config_object_and_base_labels(identity, busybox_image):  # noqa: F811
    definition = identity.workdir / "image.def"
    definition.write_text(f"Bootstrap: docker\nFrom: {busybox_image}/tests/busybox:v1\n")
    image = identity.workdir / "image.sif"
    env = {"JUPYTAINER_CACHEDIR": str(identity.workdir / "cache")}

    built = identity.jupytainer("build", image, definition, env=env, timeout=300)

    assert built.returncode == 0, built.stderr
    stored = objects(image)
    assert [(kind, name) for kind, name, _ in stored] == [
        (DataType.DEFFILE, ""), (DataType.GENERIC_JSON, "inspect-metadata.json"),
        (DataType.GENERIC_JSON, "oci-config.json"), (DataType.PARTITION, "")]
    config = json.loads(stored[2][2])
    assert config["Entrypoint"] == ["/bin/echo", "image says:"]
    labels = json.loads(stored[1][2])["data"]["attributes"]["labels"]
    assert labels["org.opencontainers.image.base.digest"].startswith("sha256:")
    assert "tests/busybox" in labels["org.opencontainers.image.base.name"]
