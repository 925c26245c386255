"""The built-in default image: a small Debian with Python, ipykernel and a few scientific
packages, built from the definition shipped in this package on first use, into the
user's cache, and reused afterwards."""

import fcntl
import hashlib
from importlib import resources
from pathlib import Path

from jupytainer.runtime import log

DISPLAY_NAME = "Python 3 (jupytainer default)"
KERNEL_NAME = "jupytainer-default"


def definition() -> str:
    """The default image's definition file, as shipped."""
    return resources.files("jupytainer.kernel").joinpath("data/default.def").read_text()


def image_path() -> Path:
    """Where the default image lives in the cache: its name is the definition's digest, so
    a changed definition builds a new image and an unchanged one is never rebuilt."""
    from jupytainer.runtime.cache import cache_dir

    key = hashlib.sha256(definition().encode()).hexdigest()[:16]
    return Path(cache_dir("default-image")) / f"default-{key}.sif"


def default_image() -> Path:
    """The default image, built first if the cache does not hold it yet."""
    image = image_path()
    if image.is_file():
        return image
    with open(image.with_suffix(".lock"), "w") as lock:
        # Two first uses at once (two kernels, two shells) build it once.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not image.is_file():
            _build(image)
    return image


def _build(image: Path) -> None:
    from jupytainer.runtime.build.builder import build
    from jupytainer.runtime.build.options import BuildOptions

    log.info(f"Building the default image {image} (a few minutes, once)")
    source = image.with_suffix(".def")
    source.write_text(definition())
    build(BuildOptions(target=image, source=str(source), force=True))
