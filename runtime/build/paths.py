"""Paths inside a root filesystem, resolved so that they can never lead outside it.

A root filesystem made by a package manager holds absolute symbolic links (/etc/resolv.conf
-> /run/...); followed from the host they would point at the host's own files, so every path
the builder writes is resolved here as the container would see it, with the root as `/`.
"""

import os
from pathlib import Path, PurePosixPath

from jupytainer.runtime.errors import JupytainerError

MAX_LINKS = 255


def inside(root: Path, path: str | PurePosixPath) -> Path:
    """Host path of `path` inside `root`, following symbolic links as if chrooted there.

    The last component is resolved too, unless it does not exist yet.
    """
    parts = list(PurePosixPath("/", path).parts[1:])
    resolved: list[str] = []
    followed = 0
    while parts:
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            resolved = resolved[:-1]
            continue
        candidate = root.joinpath(*resolved, part)
        if not candidate.is_symlink():
            resolved.append(part)
            continue
        followed += 1
        if followed > MAX_LINKS:
            raise JupytainerError(f"too many levels of symbolic links in {path} inside {root}")
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        parts = list(PurePosixPath(target).parts) + parts
        if parts and parts[0] == "/":
            parts.pop(0)
    return root.joinpath(*resolved)


def parent_inside(root: Path, path: str | PurePosixPath) -> Path:
    """inside() of the parent, then the last component unresolved: where a new entry goes
    (used to create or replace a symbolic link itself rather than its target)."""
    posix = PurePosixPath("/", path)
    return inside(root, posix.parent) / posix.name


def make_parents(root: Path, path: str | PurePosixPath) -> Path:
    """Create the missing parent directories of `path` inside `root`; returns its host path."""
    target = parent_inside(root, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
