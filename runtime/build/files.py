"""`%files`: copies from the host, or with `from STAGE` from an earlier stage's root
filesystem, into the one being built.

Sources are glob patterns (every match is copied); an empty destination means the source's
own path, one ending in `/` a directory. Destinations are resolved inside the root
filesystem, so no symbolic link there can send a copy onto the host. Host copies follow
symbolic links (`cp -L`); stage copies follow only the named source and keep the links inside
it as links.
"""

import glob
import os
from pathlib import Path, PurePosixPath

from jupytainer.runtime import log
from jupytainer.runtime.build import paths, process, userns
from jupytainer.runtime.errors import JupytainerError


def copy_group(entries: list[tuple[str, str]], rootfs: Path,
               source_root: Path | None = None) -> None:
    """Copy each (source, destination) pair; source_root None means the host."""
    for source, destination in entries:
        if not source:
            log.warning("Attempt to copy file with no name, skipping.")
            continue
        matches = _matches(source, source_root)
        if not matches:
            where = "the host" if source_root is None else "the source stage"
            raise JupytainerError(f"%files: no file matches {source} on {where}: check the "
                                  "path (relative paths start at the build's directory)")
        for match in matches:
            _copy_one(match, destination or match, rootfs, source_root)


def _matches(pattern: str, source_root: Path | None) -> list[str]:
    if not glob.has_magic(pattern):
        exists = (os.path.lexists(pattern) if source_root is None
                  else os.path.lexists(paths.inside(source_root, pattern)))
        return [pattern] if exists else []
    if source_root is None:
        return sorted(glob.glob(pattern, recursive=True))
    relative = glob.glob(pattern.lstrip("/"), root_dir=source_root, recursive=True)
    return sorted("/" + match for match in relative)


def _copy_one(source: str, destination: str, rootfs: Path, source_root: Path | None) -> None:
    log.info(f"Copying {source} to {destination}")
    origin = source if source_root is None else str(paths.inside(source_root, source))
    target = paths.inside(rootfs, destination)
    if destination.endswith("/"):
        target.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        target = paths.parent_inside(rootfs, PurePosixPath("/", destination,
                                                           PurePosixPath(source).name))
    flags = "-fLrT" if source_root is None else "-faT"
    argv = ["sh", "-c", 'mkdir -p "$1" && exec cp "$2" "$3" "$4"', "copy",
            str(target.parent), flags, origin, str(target)]
    process.run_checked(userns.as_root(argv), f"copying {source} to {destination}")
