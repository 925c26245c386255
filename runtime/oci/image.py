"""What every image source (registry, OCI layout, archive) hands to the unpacker: the image
config, and the layers in order, each with how to read it and what it must hash to."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from jupytainer.runtime.oci.config import ImageConfig



class LayerReport(Protocol):
    """Where a layer's fetch reports what it does (the progress display)."""

    def state(self, text: str) -> None: ...

    def advance(self, done: int) -> None: ...


@dataclass
class LayerBlob:
    """One layer. `fetch`, when set, must run (it may download) before `open` is called;
    `digest` is checked against the bytes `open` returns, `diff_id` against the tar inside."""

    digest: str | None
    size: int
    open: Callable[[], AbstractContextManager[BinaryIO]]
    diff_id: str | None = None
    fetch: Callable[[LayerReport], None] | None = None


@dataclass
class SourceImage:
    """An image found in a source, ready to be unpacked; `digest` pins the image as named
    (the index's digest for a multi-platform image)."""

    name: str
    digest: str
    config: ImageConfig
    layers: list[LayerBlob]
