"""An image as the launcher sees it: a sandbox directory, or a SIF file whose primary
partition is a squashfs file system at some offset."""

import os

from jupytainer.runtime.errors import JupytainerError

SIF_MAGIC = b"SIF_MAGIC"
SQUASHFS_MAGIC = b"hsqs"

# The kernel's machine names -> the GOARCH names SIF files record.
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm",
           "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


class Image:
    """A resolved image. For a sandbox, partition_offset is None and path is the root."""

    __slots__ = ("path", "is_sandbox", "partition_offset", "partition_size")

    def __init__(self, path: str, is_sandbox: bool, partition_offset: int | None = None,
                 partition_size: int | None = None) -> None:
        self.path = path
        self.is_sandbox = is_sandbox
        self.partition_offset = partition_offset
        self.partition_size = partition_size

    @property
    def name(self) -> str:
        return os.path.basename(self.path.rstrip("/"))


def host_arch() -> str:
    """This machine's architecture as SIF files name it (amd64, arm64, ...)."""
    machine = os.uname().machine
    return _GOARCH.get(machine, machine)


def resolve_image(reference: str | os.PathLike) -> Image:
    """Find what reference names and check that it can run here; JupytainerError if not."""
    path = os.path.abspath(os.fspath(reference))
    if not os.path.exists(path):
        raise JupytainerError(f"image {reference} does not exist: check the path")
    if os.path.isdir(path):
        return Image(path, is_sandbox=True)
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError as failure:
        raise JupytainerError(f"cannot read image {reference}: {failure.strerror}") from None
    if head[32:41] == SIF_MAGIC:
        return _sif_image(path, reference)
    if head[:4] == SQUASHFS_MAGIC:
        return Image(path, False, 0, os.path.getsize(path))
    raise JupytainerError(f"{reference} is not a SIF image, a squashfs file or a sandbox "
                          "directory: give the path of a container image")


def _sif_image(path: str, reference: str | os.PathLike) -> Image:
    from jupytainer.runtime import sif

    with sif.load(path) as sif_file:
        partition = sif_file.primary_partition()
        _check_partition(partition, reference)
        return Image(path, False, partition.offset, partition.size)


def _check_partition(partition, reference: str | os.PathLike) -> None:
    from jupytainer.runtime.sif import FsType

    if partition.fstype != FsType.SQUASHFS:
        kind = getattr(partition.fstype, "name", str(partition.fstype)).lower()
        raise JupytainerError(f"{reference} has a {kind} root partition, which jupytainer "
                              "cannot run: rebuild it as a squashfs SIF image")
    arch = host_arch()
    if partition.arch not in (arch, "unknown", ""):
        raise JupytainerError(f"{reference} is built for {partition.arch} and this machine "
                              f"is {arch}: use an image built for {arch}")
