"""Reading an object's data: whole, or as a stream limited to the object, so that a
partition of any size can be copied without holding it in memory."""

import io
import os
from pathlib import Path
from typing import BinaryIO

from .errors import SifError
from .structures import Descriptor

CHUNK = 1 << 20


class _ObjectReader(io.RawIOBase):
    """Raw reads of [offset, offset+size) through its own descriptor, so the stream stays
    usable after the SifFile that opened it is closed."""

    def __init__(self, path: Path, fd: int, descriptor: Descriptor) -> None:
        super().__init__()
        self._path = path
        self._fd = os.dup(fd)
        self._start = descriptor.offset
        self._size = descriptor.size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), max(0, self._size - self._position))
        if wanted == 0:
            return 0
        data = pread(self._path, self._fd, wanted, self._start + self._position)
        if not data:
            raise SifError(f"{self._path} is truncated: object data ends early")
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def open_object(path: Path, fd: int, descriptor: Descriptor) -> BinaryIO:
    """A buffered, seekable reader of one object's data."""
    return io.BufferedReader(_ObjectReader(path, fd, descriptor), buffer_size=CHUNK)


def read_object(path: Path, fd: int, descriptor: Descriptor) -> bytes:
    with open_object(path, fd, descriptor) as reader:
        data = reader.read()
    if len(data) != descriptor.size:
        raise SifError(f"{path} is truncated: object {descriptor.id} ends early")
    return data


def pread(path: Path, fd: int, size: int, offset: int) -> bytes:
    try:
        return os.pread(fd, size, offset)
    except OSError as failure:
        raise SifError(f"cannot read {path}: {failure.strerror}") from failure
