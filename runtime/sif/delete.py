"""Deleting an object: its slot is freed; its data stays unless zeroed, and the file only
shrinks when the last object is deleted with compaction."""

import os
from typing import TYPE_CHECKING

from .constants import UNKNOWN_ARCH, PartType
from .errors import SifError
from .structures import Descriptor

if TYPE_CHECKING:
    from .image import SifFile


def delete_object(sif: "SifFile", object_id: int, *, zero: bool = False,
                  compact: bool = False) -> None:
    sif.require_writable()
    descriptor = sif.get(object_id)
    # Limitation: as in the reference library, only the last object can be compacted away;
    # moving later objects down would rewrite their data in place, unrecoverable if cut short.
    if compact and any(other.end > descriptor.end for other in sif.objects):
        raise SifError(f"cannot compact {sif.path}: object {object_id} is not the last one")

    if zero:
        sif.zero_fill(descriptor.offset, descriptor.end)
    if compact:
        padding = descriptor.size_with_padding - descriptor.size
        if not 0 <= padding <= descriptor.offset:
            raise SifError(f"cannot compact {sif.path}: object {object_id} has an invalid "
                           f"padded size")
        _truncate(sif, descriptor.offset - padding)
        sif.header = sif.header.replace(
            data_size=sif.header.data_size - descriptor.size_with_padding)

    header = sif.header
    arch_code = header.arch_code
    if descriptor.parttype == PartType.PRIMARY_SYSTEM:
        arch_code = UNKNOWN_ARCH
    sif.header = header.replace(descriptors_free=header.descriptors_free + 1,
                                modified_at=sif.now(), arch_code=arch_code)
    sif.store(Descriptor.unused(descriptor.slot))


def _truncate(sif: "SifFile", size: int) -> None:
    try:
        os.ftruncate(sif.fileno(), size)
    except OSError as failure:
        raise SifError(f"cannot truncate {sif.path}: {failure.strerror}") from failure
