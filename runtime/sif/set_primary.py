"""Choosing the primary system partition: the one a container runs from, whose architecture
the header records."""

from typing import TYPE_CHECKING

from .constants import DataType, PartType
from .errors import SifError
from .select import primary_partitions
from .structures import Descriptor, partition_extra

if TYPE_CHECKING:
    from .image import SifFile


def set_primary_partition(sif: "SifFile", object_id: int) -> None:
    """Promote a system partition; a previous primary one becomes a plain system partition."""
    sif.require_writable()
    target = sif.get(object_id)
    if target.raw_data_type != DataType.PARTITION:
        raise SifError(f"{sif.path}: object {object_id} is not a partition")
    if target.parttype == PartType.PRIMARY_SYSTEM:
        return
    if target.parttype != PartType.SYSTEM:
        raise SifError(f"{sif.path}: object {object_id} is not a system partition")

    stamp = sif.now()
    for previous in primary_partitions(sif.objects):
        sif.store(_with_parttype(previous, PartType.SYSTEM, stamp))
    sif.header = sif.header.replace(arch_code=target.arch_code, modified_at=stamp)
    sif.store(_with_parttype(target, PartType.PRIMARY_SYSTEM, stamp))


def _with_parttype(descriptor: Descriptor, parttype: PartType, stamp: int) -> Descriptor:
    """descriptor with a new partition type; the rest of its metadata is kept as stored."""
    head = partition_extra(descriptor.fstype, parttype, descriptor.arch_code)
    return descriptor.replace(extra=head + descriptor.extra[len(head):], modified_at=stamp)
