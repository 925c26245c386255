"""inspect-metadata.json: what `inspect --all` prints for an image, stored in the SIF so that
inspecting it needs no mount. The inspect command's own reader and renderer make it, so the
stored object and a live inspection always agree."""

from pathlib import Path

from jupytainer.runtime.metadata import inspect_all, read_root


def inspect_metadata(rootfs: Path) -> bytes:
    """The JSON document `inspect --all` would print for rootfs as a sandbox."""
    return inspect_all(read_root(str(rootfs))).encode()
