"""`Bootstrap: docker`, `oci`, `oci-archive`, `docker-archive`, `docker-daemon`: an OCI
image's layers unpacked into the root filesystem by the OCI module."""

from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.deffile.model import Stage
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.image import host_arch


def reference(stage: Stage) -> str:
    """The image reference: `docker://registry/namespace/from` for docker (Registry and
    Namespace prefixed as Apptainer does), `<bootstrap>:<from>` for the others."""
    source = stage.header.get("from")
    if not source:
        raise JupytainerError(f"Bootstrap: {stage.bootstrap} needs From, the image to "
                              "start from (e.g. From: debian:bookworm)")
    if stage.bootstrap != "docker":
        return f"{stage.bootstrap}:{source}"
    prefix = [stage.header[key].strip("/") for key in ("registry", "namespace")
              if stage.header.get(key)]
    return "docker://" + "/".join([*prefix, source])


def bootstrap(stage: Stage, rootfs: Path, context) -> None:
    from jupytainer.runtime.oci.unpack import unpack_image

    log.info("Fetching OCI image...")
    config = unpack_image(reference(stage), str(rootfs), arch=host_arch())
    context.oci_config = config.raw.get("config") or {}
    context.oci_base = (config.base_name, config.base_digest)
