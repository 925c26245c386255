"""The architecture of the programs in a root filesystem, which the SIF partition records:
that of /bin/sh (an ELF file), as Apptainer decides it, else this machine's."""

import struct
from pathlib import Path

from jupytainer.runtime.build import paths
from jupytainer.runtime.image import host_arch

# ELF e_machine -> the GOARCH name SIF files use (32- or 64-bit decided by EI_CLASS).
MACHINES = {(3, 1): "386", (62, 2): "amd64", (40, 1): "arm", (183, 2): "arm64",
            (21, 2): "ppc64le", (22, 2): "s390x", (243, 2): "riscv64", (8, 1): "mips"}


def rootfs_arch(rootfs: Path) -> str:
    """The GOARCH name of rootfs' /bin/sh; the host's when it has none or it is not ELF."""
    # Limitation: Apptainer then looks for any executable ELF file; a root filesystem
    # without /bin/sh is recorded with this machine's architecture instead.
    try:
        with open(paths.inside(rootfs, "/bin/sh"), "rb") as handle:
            header = handle.read(20)
    except OSError:
        return host_arch()
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return host_arch()
    order = "<" if header[5] == 1 else ">"
    machine = struct.unpack(f"{order}H", header[18:20])[0]
    return MACHINES.get((machine, header[4]), host_arch())
