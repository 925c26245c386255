"""Image digests and the pins notebooks carry: a notebook whose metadata says
`"jupytainer": {"image_digest": "sha256:..."}` runs only in the image with that digest.

An image's digest is the SHA-256 of its whole SIF file, in hex, prefixed `sha256:`.
"""

import hashlib
import json
import os

from jupytainer.runtime.errors import JupytainerError

PREFIX = "sha256:"
_BLOCK = 1 << 20

# Digests already computed in this process, by file identity: a server starting many
# kernels on one image reads it once.
_known: dict[tuple[int, int, int, int], str] = {}


def image_digest(path: str | os.PathLike) -> str:
    """`sha256:` and the hex SHA-256 of the file at path."""
    info = os.stat(path)
    key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    if key not in _known:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(_BLOCK):
                digest.update(block)
        _known[key] = PREFIX + digest.hexdigest()
    return _known[key]


def pinned_digest(notebook: str) -> str | None:
    """The image digest the notebook at path pins, or None (no pin, or not a notebook)."""
    if not notebook.endswith(".ipynb"):
        return None
    try:
        with open(notebook, encoding="utf-8") as handle:
            metadata = json.load(handle).get("metadata")
    except (OSError, ValueError, AttributeError):
        return None
    section = metadata.get("jupytainer") if isinstance(metadata, dict) else None
    pin = section.get("image_digest") if isinstance(section, dict) else None
    return pin if isinstance(pin, str) and pin else None


def check_pin(notebook: str, image: str) -> None:
    """Refuse to run the notebook's kernel in an image other than the one it pins."""
    pin = pinned_digest(notebook)
    if pin is None or os.path.isdir(image):
        return
    actual = image_digest(image)
    if actual != pin:
        name = os.path.basename(notebook)
        raise JupytainerError(
            f"{name} is pinned to the image {pin[:19]}..., but {image} is "
            f"{actual[:19]}...: open it with a kernel for the pinned image, or remove "
            "metadata.jupytainer.image_digest from the notebook to run it here")
