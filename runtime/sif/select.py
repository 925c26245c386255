"""Choosing objects: by name, type or group, and the primary system partition a container
runs from."""

from pathlib import Path

from .constants import DataType, FsType, PartType
from .errors import SifError
from .structures import Descriptor


def find(objects: list[Descriptor], *, name: str | None = None, data_type: int | None = None,
         group_id: int | None = None, parttype: int | None = None) -> Descriptor | None:
    """The first object that matches every criterion given (None ignores one)."""
    for descriptor in objects:
        if _matches(descriptor, name, data_type, group_id, parttype):
            return descriptor
    return None


def _matches(descriptor: Descriptor, name: str | None, data_type: int | None,
             group_id: int | None, parttype: int | None) -> bool:
    return ((name is None or descriptor.name == name)
            and (data_type is None or descriptor.raw_data_type == data_type)
            and (group_id is None or descriptor.group_id == group_id)
            and (parttype is None or descriptor.parttype == parttype))


def primary_partitions(objects: list[Descriptor]) -> list[Descriptor]:
    return [d for d in objects if d.raw_data_type == DataType.PARTITION
            and d.parttype == PartType.PRIMARY_SYSTEM]


def primary_partition(path: Path, objects: list[Descriptor]) -> Descriptor:
    """The one primary system partition. Listing tolerates an unknown filesystem type;
    running from it cannot, so it is refused here, where a container would start."""
    candidates = primary_partitions(objects)
    if not candidates:
        raise SifError(f"{path} has no primary system partition: it cannot be run "
                       f"(add one, or choose one with 'jupytainer sif setprim')")
    if len(candidates) > 1:
        ids = ", ".join(str(d.id) for d in candidates)
        raise SifError(f"{path} is corrupt: it has several primary system partitions "
                       f"(objects {ids})")
    partition = candidates[0]
    if not isinstance(partition.fstype, FsType):
        raise SifError(f"{path}: the primary system partition (object {partition.id}) has "
                       f"an unknown filesystem type {partition.fstype}")
    return partition
