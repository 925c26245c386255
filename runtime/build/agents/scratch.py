"""`Bootstrap: scratch`: an empty root filesystem, to be filled by %setup and %files."""

from pathlib import Path

from jupytainer.runtime.deffile.model import Stage


def bootstrap(stage: Stage, rootfs: Path, context) -> None:
    """Nothing to fetch: the base environment the builder adds is the whole image."""
