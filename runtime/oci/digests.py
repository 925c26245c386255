"""Content digests (`sha256:<hex>`): strict parsing, because a digest from a manifest becomes a
file name in the cache, and streams that check what they carry against one as they are read."""

import hashlib
import io
import re
from typing import BinaryIO

from jupytainer.runtime.errors import JupytainerError

_FORMS = {"sha256": re.compile(r"[0-9a-f]{64}"), "sha512": re.compile(r"[0-9a-f]{128}")}


class DigestMismatch(JupytainerError):
    """Content that does not hash to the digest its manifest promised."""


def check_digest(digest: str, what: str = "digest") -> str:
    """`digest` itself when it is a well-formed sha256/sha512 digest, else a clear error."""
    algorithm, _, value = str(digest).partition(":")
    form = _FORMS.get(algorithm)
    if form is None or not form.fullmatch(value):
        raise JupytainerError(f"invalid {what} '{digest}': expected sha256:<64 hex digits>")
    return digest


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def short(digest: str) -> str:
    """The first 7 hex digits, as progress lines show a layer."""
    return digest.partition(":")[2][:7] or digest[:7]


class DigestReader(io.RawIOBase):
    """A read-only stream that hashes what passes through it; `verify()` reads what is left
    and raises DigestMismatch unless the whole content matched `expected` (None: no check)."""

    def __init__(self, stream: BinaryIO, expected: str | None, what: str):
        self._stream = stream
        self._expected = check_digest(expected) if expected else None
        self._what = what
        self._hash = hashlib.new(expected.partition(":")[0]) if expected else None
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        if self._hash is not None:
            self._hash.update(data)
        self.count += size
        return size

    def verify(self) -> None:
        while self.read(1 << 20):
            pass
        if self._expected is None:
            return
        algorithm = self._expected.partition(":")[0]
        actual = f"{algorithm}:{self._hash.hexdigest()}"
        if actual != self._expected:
            raise DigestMismatch(f"{self._what} is corrupt: its content hashes to "
                                 f"{short(actual)}, not {short(self._expected)} as the "
                                 f"manifest says; pull it again or fix the image source")
