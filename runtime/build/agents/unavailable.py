"""Bootstrap agents jupytainer does not provide, each with the way to get the same image."""

from pathlib import Path

from jupytainer.runtime.deffile.model import Stage
from jupytainer.runtime.errors import JupytainerError

ALTERNATIVES = {
    "library": "the Sylabs/Apptainer library service is not supported: pull the image with "
               "Apptainer and use 'Bootstrap: localimage', or use 'Bootstrap: docker'",
    "oras": "pull the SIF first, 'jupytainer pull {file} oras://{source}', and use "
            "'Bootstrap: localimage' with From: {file}",
    "shub": "Singularity Hub has been shut down: use 'Bootstrap: docker' or "
            "'Bootstrap: localimage' with a copy of the image",
    "yum": "RPM bootstraps need yum/dnf and rpm on the host: start from an RPM-based image "
           "with 'Bootstrap: docker' (e.g. From: rockylinux:9) and install packages in %post",
    "dnf": "RPM bootstraps need yum/dnf and rpm on the host: start from an RPM-based image "
           "with 'Bootstrap: docker' (e.g. From: rockylinux:9) and install packages in %post",
    "zypper": "zypper bootstraps need zypper on the host: use 'Bootstrap: docker' with "
              "From: opensuse/leap and install packages in %post",
    "arch": "Arch Linux bootstraps need pacstrap on the host: use 'Bootstrap: docker' with "
            "From: archlinux and install packages in %post",
    "buildkit": "Dockerfile builds are not supported: build the image with Docker or "
                "BuildKit and use 'Bootstrap: docker-archive' or 'Bootstrap: oci-archive'",
    "dockerfile": "Dockerfile builds are not supported: build the image with Docker or "
                  "BuildKit and use 'Bootstrap: docker-archive' or 'Bootstrap: oci-archive'",
}


def bootstrap(stage: Stage, rootfs: Path, context) -> None:
    name = stage.bootstrap or ""
    source = stage.header.get("from") or "REGISTRY/REPOSITORY:TAG"
    file = source.rsplit("/", 1)[-1].split(":")[0] + ".sif"
    raise JupytainerError(f"Bootstrap: {name} is not available in jupytainer: "
                          + ALTERNATIVES[name].format(source=source, file=file))
