"""`Bootstrap: localimage`: start from an existing image, a SIF file (its primary partition
is unpacked) or a sandbox directory (copied)."""

import os
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.build import process, userns
from jupytainer.runtime.deffile.model import Stage
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.image import resolve_image


def bootstrap(stage: Stage, rootfs: Path, context) -> None:
    source = stage.header.get("from")
    if not source:
        raise JupytainerError("Bootstrap: localimage needs From, the path of a SIF file or "
                              "sandbox directory")
    if stage.header.get("fingerprints"):
        # Limitation: SIF signatures are not verified, so Fingerprints cannot be enforced.
        log.warning("Fingerprints: jupytainer does not verify SIF signatures; the image is "
                    "used without checking who signed it")
    image = resolve_image(source)
    log.info("Extracting local image...")
    if image.is_sandbox:
        argv = ["cp", "-a", "-T", image.path, str(rootfs)]
        process.run_checked(userns.as_root(argv), f"copying the sandbox {source}")
        return
    _unsquash(image.path, image.partition_offset or 0, rootfs, source)


def _unsquash(path: str, offset: int, rootfs: Path, source: str) -> None:
    """Unpack the partition in place; unprivileged, device nodes cannot be made and are
    skipped (the runtime binds /dev anyway)."""
    argv = ["unsquashfs", "-f", "-quiet", "-no-progress", "-o", str(offset),
            "-d", str(rootfs), path]
    if not userns.is_root():
        argv.insert(1, "-no-xattrs")
    status = process.run_streamed(userns.as_root(argv), quiet=True)
    if status == 0:
        return
    if not os.listdir(rootfs):
        raise JupytainerError(f"cannot unpack the image {source} (unsquashfs exit status "
                              f"{status}): check that it is a complete SIF file")
    log.warning(f"some files of {source} could not be unpacked (device nodes need root); "
                "the runtime provides /dev")
