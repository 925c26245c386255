"""Creating SIF files: an empty image ready for objects, and a whole image written under a
temporary name and renamed into place only once it is complete."""

import contextlib
import datetime
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from .constants import (DEFAULT_DESCRIPTORS_OFFSET, DEFAULT_DESCRIPTORS_TOTAL, DESCRIPTOR,
                        GO_ZERO_TIME, HEADER, LAUNCH_SCRIPT_SIZE, UNKNOWN_ARCH)
from .errors import SifError, reason
from .image import SifFile
from .structures import Descriptor, Header

NIL_UUID = uuid.UUID(int=0)


def create(path: str | os.PathLike, *, launch_script: bytes = b"", deterministic: bool = False,
           created_at: int | datetime.datetime | None = None, id: uuid.UUID | None = None,
           descriptors_total: int = DEFAULT_DESCRIPTORS_TOTAL) -> SifFile:
    """Write an empty SIF at path (replacing any file there) and return it open for adding.

    Objects added through the returned file carry its creation time, as they would if
    created together; `deterministic` gives a nil ID and the 'unset' time, so that equal
    inputs give equal bytes.
    """
    header = new_header(launch_script=launch_script, deterministic=deterministic,
                        created_at=created_at, id=id, descriptors_total=descriptors_total)
    return _write_empty(Path(path), header)


def new_header(*, launch_script: bytes = b"", deterministic: bool = False,
               created_at: int | datetime.datetime | None = None, id: uuid.UUID | None = None,
               descriptors_total: int = DEFAULT_DESCRIPTORS_TOTAL) -> Header:
    """The header of an empty image; the keywords are those of `create`."""
    if len(launch_script) >= LAUNCH_SCRIPT_SIZE:
        raise SifError(f"launch script is {len(launch_script)} bytes: a SIF allows at most "
                       f"{LAUNCH_SCRIPT_SIZE - 1}")
    if descriptors_total < 1:
        raise SifError(f"a SIF needs at least one descriptor slot, not {descriptors_total}")
    image_id = id if id is not None else NIL_UUID if deterministic else uuid.uuid4()
    stamp = _timestamp(created_at, deterministic)
    table_size = descriptors_total * DESCRIPTOR.size
    return Header(launch_script.ljust(LAUNCH_SCRIPT_SIZE, b"\0"), UNKNOWN_ARCH, image_id,
                  stamp, stamp, descriptors_total, descriptors_total,
                  DEFAULT_DESCRIPTORS_OFFSET, table_size,
                  DEFAULT_DESCRIPTORS_OFFSET + table_size, 0)


def _timestamp(created_at: int | datetime.datetime | None, deterministic: bool) -> int:
    if isinstance(created_at, datetime.datetime):
        return int(created_at.timestamp())
    if created_at is not None:
        return created_at
    return GO_ZERO_TIME if deterministic else int(datetime.datetime.now().timestamp())


def _write_empty(path: Path, header: Header, *, temporary: Path | None = None) -> SifFile:
    """Write an empty image at path, or at temporary (a new file) for a SIF that will be
    renamed to path; messages always name path, the file the user knows."""
    target = temporary or path
    flags = os.O_RDWR | os.O_CREAT | (os.O_EXCL if temporary else os.O_TRUNC)
    try:
        fd = os.open(target, flags, 0o755)
    except OSError as failure:
        raise SifError(f"cannot create {path}: {reason(failure)}") from failure
    handle = os.fdopen(fd, "r+b", buffering=0)
    slots = [Descriptor.unused(slot) for slot in range(header.descriptors_total)]
    sif = SifFile(path, handle, header, slots, writable=True, fixed_time=header.created_at)
    try:
        sif.zero_fill(HEADER.size, header.data_offset)
        sif.store_header()
    except BaseException:
        sif.close()
        if temporary:
            temporary.unlink(missing_ok=True)
        raise
    return sif


@contextlib.contextmanager
def creating(path: str | os.PathLike, **create_options) -> Iterator[SifFile]:
    """Yield a new SIF written under a temporary name in the same directory; on success it
    is synced and renamed to path, on any failure removed, so path never holds half a SIF."""
    final = Path(path)
    temporary = final.with_name(f".{final.name}.{os.urandom(4).hex()}.tmp")
    sif = _write_empty(final, new_header(**create_options), temporary=temporary)
    try:
        with sif:
            yield sif
            sif.sync()
        _rename(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(final.parent)


def write_atomically(path: str | os.PathLike, build: Callable[[SifFile], None],
                     **create_options) -> None:
    """Create the SIF at path by calling build(sif) on a fresh image (see `creating`)."""
    with creating(path, **create_options) as sif:
        build(sif)


def _rename(temporary: Path, final: Path) -> None:
    try:
        os.replace(temporary, final)
    except OSError as failure:
        raise SifError(f"cannot write {final}: {reason(failure)}") from failure


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as failure:
        raise SifError(f"cannot sync {directory}: {reason(failure)}") from failure
