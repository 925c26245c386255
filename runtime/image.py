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

    __slots__ = ("is_sandbox", "partition_offset", "partition_size", "path")

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
    try:
        os.stat(path)
    except PermissionError:
        raise JupytainerError(f"cannot reach image {reference}: permission denied on a folder "
                              "of its path") from None
    except OSError:
        raise JupytainerError(f"image {reference} does not exist: check the path") from None
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
    """The SIF's primary partition, as remembered for this version of the file, or read
    (the SIF reader costs more to import than the rest of a container start)."""
    memo = _partition_memo(path)
    try:
        with open(memo) as handle:
            offset, size, fstype, arch = handle.read().split()
    except (OSError, ValueError):
        offset, size, fstype, arch = _read_partition(path)
        _remember(memo, f"{offset} {size} {fstype} {arch}\n")
    _check_partition(fstype, arch, reference)
    return Image(path, False, int(offset), int(size))


def _read_partition(path: str) -> tuple[int, int, str, str]:
    from jupytainer.runtime import sif

    with sif.load(path) as sif_file:
        partition = sif_file.primary_partition()
    fstype = getattr(partition.fstype, "name", str(partition.fstype)).lower()
    return partition.offset, partition.size, fstype, partition.arch or "unknown"


def _partition_memo(path: str) -> str:
    from jupytainer.runtime import cache

    info = os.stat(path)
    key = f"{info.st_dev}-{info.st_ino}-{info.st_size}-{info.st_mtime_ns}"
    return os.path.join(cache.cache_root(), "sif-partitions", key)


def _remember(memo: str, text: str) -> None:
    """Keep what was read for next time; a cache that cannot be written is no error."""
    try:
        os.makedirs(os.path.dirname(memo), mode=0o700, exist_ok=True)
        partial = f"{memo}.{os.getpid()}"
        with open(partial, "w") as handle:
            handle.write(text)
        os.replace(partial, memo)
    except OSError:
        pass


def _check_partition(fstype: str, arch: str, reference: str | os.PathLike) -> None:
    if fstype != "squashfs":
        raise JupytainerError(f"{reference} has a {fstype} root partition, which jupytainer "
                              "cannot run: rebuild it as a squashfs SIF image")
    host = host_arch()
    if arch not in (host, "unknown"):
        raise JupytainerError(f"{reference} is built for {arch} and this machine is {host}: "
                              f"use an image built for {host}")
