"""Opening a SIF file: read the header and the descriptor table (never object data) and check
that they describe a file that can be used safely."""

import os
import stat
from pathlib import Path

from .constants import DESCRIPTOR, HEADER, MAGIC, VERSION
from .errors import SifError
from .image import SifFile
from .stream import pread
from .structures import Descriptor, Header


def load(path: str | os.PathLike, writable: bool = False) -> SifFile:
    """Open the SIF at path; with writable=True it can be edited in place.

    Costs two reads whatever the size of the image: the 128-byte header and the table.
    """
    path = Path(path)
    try:
        _require_file(path)
        handle = open(path, "r+b" if writable else "rb", buffering=0)
    except OSError as failure:
        raise SifError(f"cannot open {path}: {failure.strerror}") from failure
    try:
        header, slots = read_tables(path, handle.fileno())
    except BaseException:
        handle.close()
        raise
    return SifFile(path, handle, header, slots, writable=writable, fixed_time=None)


def _require_file(path: Path) -> None:
    """Refuse directories, pipes and the like before opening: a FIFO would block forever."""
    mode = os.stat(path).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
        raise SifError(f"{path} is not a SIF image: it is not a regular file")


def read_tables(path: Path, fd: int) -> tuple[Header, list[Descriptor]]:
    """The validated header and every descriptor slot of the open file fd."""
    file_size = os.fstat(fd).st_size
    header = _read_header(path, fd, file_size)

    table = pread(path, fd, header.descriptors_total * DESCRIPTOR.size,
                   header.descriptors_offset)
    slots = [Descriptor.unpack(slot, table[slot * DESCRIPTOR.size:(slot + 1) * DESCRIPTOR.size])
             for slot in range(header.descriptors_total)]

    check_objects(path, header, [slot for slot in slots if slot.used], file_size)
    return header, slots


def _read_header(path: Path, fd: int, file_size: int) -> Header:
    raw = pread(path, fd, HEADER.size, 0)
    if len(raw) < HEADER.size:
        raise SifError(f"{path} is not a SIF image: it has {len(raw)} bytes, fewer than the "
                       f"{HEADER.size}-byte SIF header (truncated?)")
    header = Header.unpack(raw)
    if header.magic != MAGIC:
        raise SifError(f"{path} is not a SIF image: its header has no SIF_MAGIC")
    if header.version != VERSION:
        shown = header.version.rstrip(b"\0").decode("ascii", errors="replace")
        raise SifError(f"{path} is SIF version '{shown}': only version 01 is supported")
    check_header(path, header, file_size)
    return header


def check_header(path: Path, header: Header, file_size: int) -> None:
    """The table must lie after the header and inside the file; sizes must not be negative."""
    if header.descriptors_total < 0 or header.descriptors_offset < HEADER.size:
        raise SifError(f"{path} is corrupt: invalid descriptor table (offset "
                       f"{header.descriptors_offset}, {header.descriptors_total} slots)")
    table_end = header.descriptors_offset + header.descriptors_total * DESCRIPTOR.size
    if table_end > file_size:
        raise SifError(f"{path} is truncated or corrupt: its descriptor table ends at byte "
                       f"{table_end}, past the end of the file ({file_size} bytes)")
    if header.data_offset < 0 or header.data_size < 0:
        raise SifError(f"{path} is corrupt: negative data offset or size in its header")


def check_objects(path: Path, header: Header, objects: list[Descriptor],
                  file_size: int) -> None:
    """Every object lies inside the file, after the table, without overlapping another."""
    table_end = header.descriptors_offset + header.descriptors_total * DESCRIPTOR.size
    seen_ids: set[int] = set()
    for descriptor in objects:
        _check_object(path, descriptor, table_end, file_size)
        if descriptor.id in seen_ids:
            raise SifError(f"{path} is corrupt: two objects have the ID {descriptor.id}")
        seen_ids.add(descriptor.id)

    placed = sorted((d for d in objects if d.size > 0), key=lambda d: d.offset)
    for before, after in zip(placed, placed[1:]):
        if after.offset < before.end:
            raise SifError(f"{path} is corrupt: objects {before.id} and {after.id} overlap")


def _check_object(path: Path, descriptor: Descriptor, table_end: int, file_size: int) -> None:
    name = f"object {descriptor.id}"
    if descriptor.offset < 0 or descriptor.size < 0:
        raise SifError(f"{path} is corrupt: {name} has a negative offset or size "
                       f"({descriptor.offset}, {descriptor.size})")
    if descriptor.end > file_size:
        raise SifError(f"{path} is truncated: {name} ends at byte {descriptor.end}, past the "
                       f"end of the file ({file_size} bytes)")
    if descriptor.size > 0 and descriptor.offset < table_end:
        raise SifError(f"{path} is corrupt: {name} overlaps the header or descriptor table")

