"""An open SIF file: its header and descriptor table in memory, its object data left on disk.

The operations live in their own modules (add, delete, set_primary, select, stream); this
class ties them to one open file and writes changed records back in place.
"""

import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from . import select, stream
from .constants import GO_ZERO_TIME
from .errors import SifError, reason
from .structures import Descriptor, Header

if TYPE_CHECKING:
    from .add import ObjectInput

ZERO_CHUNK = 1 << 20


class SifFile:
    """A SIF file opened by `load` or `create`; also a context manager that closes it."""

    def __init__(self, path: Path, handle: BinaryIO, header: Header, slots: list[Descriptor],
                 *, writable: bool, fixed_time: int | None) -> None:
        self.path = path
        self.header = header
        self.writable = writable
        self._handle = handle
        self._slots = slots
        self._fixed_time = fixed_time

    def __enter__(self) -> "SifFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SifFile {self.path} ({len(self.objects)} objects)>"

    @property
    def objects(self) -> list[Descriptor]:
        """The used descriptors, in slot order."""
        return [slot for slot in self._slots if slot.used]

    @property
    def slots(self) -> list[Descriptor]:
        """Every descriptor slot, used or not."""
        return list(self._slots)

    def get(self, object_id: int) -> Descriptor:
        """The object with this ID, or a SifError naming the file."""
        for descriptor in self.objects:
            if descriptor.id == object_id:
                return descriptor
        raise SifError(f"{self.path}: no object with ID {object_id}")

    def find(self, *, name: str | None = None, data_type: int | None = None,
             group_id: int | None = None, parttype: int | None = None) -> Descriptor | None:
        """The first object matching every criterion given, or None."""
        return select.find(self.objects, name=name, data_type=data_type, group_id=group_id,
                           parttype=parttype)

    def primary_partition(self) -> Descriptor:
        """The single primary system partition, with a filesystem type jupytainer knows."""
        return select.primary_partition(self.path, self.objects)

    def read_bytes(self, descriptor: Descriptor) -> bytes:
        """The whole data of one object (for small objects; stream big ones)."""
        return stream.read_object(self.path, self.fileno(), descriptor)

    def open_object(self, descriptor: Descriptor) -> BinaryIO:
        """A readable, seekable binary stream over one object's data only."""
        return stream.open_object(self.path, self.fileno(), descriptor)

    # The editing modules are imported when first used: opening an image to run it must
    # not pay for them (dataclasses, hashlib).

    def add_object(self, obj: "ObjectInput") -> Descriptor:
        """Append an object (see add.ObjectInput) in the first free slot; returns it."""
        from .add import add_object
        return add_object(self, obj)

    def delete_object(self, object_id: int, *, zero: bool = False,
                      compact: bool = False) -> None:
        """Free an object's slot; `zero` overwrites its data, `compact` truncates the file
        (only for the last object)."""
        from .delete import delete_object
        delete_object(self, object_id, zero=zero, compact=compact)

    def set_primary_partition(self, object_id: int) -> None:
        """Make a system partition the primary one, demoting the previous one."""
        from .set_primary import set_primary_partition
        set_primary_partition(self, object_id)

    def fileno(self) -> int:
        if self._handle.closed:
            raise SifError(f"{self.path} is already closed")
        return self._handle.fileno()

    def sync(self) -> None:
        """Flush everything written to stable storage."""
        os.fsync(self.fileno())

    def close(self) -> None:
        self._handle.close()

    # Helpers for the operation modules.

    def now(self) -> int:
        """The time stamp edits record: fixed for deterministic images and for a creation
        session, the current time otherwise."""
        if self._fixed_time is not None:
            return self._fixed_time
        if self.header.is_deterministic:
            return GO_ZERO_TIME
        return int(time.time())

    def require_writable(self) -> None:
        if not self.writable:
            raise SifError(f"{self.path} is open read-only: load it with writable=True")

    def store(self, descriptor: Descriptor) -> None:
        """Write one descriptor into its slot, then the header."""
        self.require_writable()
        record, header = self._packed(descriptor.pack), self._packed(self.header.pack)
        self._pwrite(record, self.header.descriptors_offset + descriptor.slot * len(record))
        self._slots[descriptor.slot] = descriptor
        self._pwrite(header, 0)

    def store_header(self) -> None:
        self.require_writable()
        self._pwrite(self._packed(self.header.pack), 0)

    def zero_fill(self, start: int, end: int) -> None:
        """Make [start, end) zeros: written over existing bytes, a sparse hole past the end."""
        fd = self.fileno()
        file_size = os.fstat(fd).st_size
        for chunk_start in range(start, min(end, file_size), ZERO_CHUNK):
            length = min(ZERO_CHUNK, min(end, file_size) - chunk_start)
            self._pwrite(bytes(length), chunk_start)
        if end > file_size:
            try:
                os.ftruncate(fd, end)
            except (OSError, OverflowError) as failure:
                raise SifError(f"cannot extend {self.path}: {reason(failure)}") from failure

    def _packed(self, pack: Callable[[], bytes]) -> bytes:
        try:
            return pack()
        except struct.error as problem:
            raise SifError(f"{self.path} is corrupt: a value no longer fits its field "
                           f"({problem})") from None

    def _pwrite(self, data: bytes, offset: int) -> None:
        try:
            os.pwrite(self.fileno(), data, offset)
        except (OSError, OverflowError) as failure:
            raise SifError(f"cannot write {self.path}: {reason(failure)}") from failure
