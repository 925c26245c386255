"""Paths inside a root file system that is not ours: symlinks are followed as the
container would see them, never out to the host."""

import os

MAX_SYMLINKS = 40


def resolve_inside(root: str, path: str) -> str:
    """The container path that path names once every symlink in it is followed within root.

    An absolute link target restarts at root, and `..` stops at root, so the result
    (joined to root) never leaves it. Missing components are kept as they are.
    """
    parts = [part for part in path.split("/") if part and part != "."]
    resolved: list[str] = []
    followed = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            target = os.readlink(candidate)
        except OSError:
            resolved.append(part)
            continue
        followed += 1
        if followed > MAX_SYMLINKS:
            raise OSError(40, f"too many levels of symbolic links in {path}")
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p and p != "."] + parts
    return "/" + "/".join(resolved)


def host_path(root: str, container_path: str) -> str:
    """Where container_path (already resolved) lies on the host side of root."""
    return os.path.join(root, container_path.lstrip("/"))
