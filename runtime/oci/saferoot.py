"""A directory treated as the `/` of an image: every path is resolved one component at a time
through directory descriptors, and a symlink met on the way is followed as the container would
see it, so that no path - whatever the layers put there - can lead outside the directory."""

import errno
import os
import shutil
import stat
from collections import deque

from jupytainer.runtime.errors import JupytainerError

MAX_SYMLINKS = 40
_DIRECTORY = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(JupytainerError):
    """A path in an image that would escape its root or cannot be resolved inside it."""


def split_path(path: str) -> list[str]:
    """The components of a path found in an image; `..` is refused, a leading `/` dropped."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(f"'{path}' contains '..' and would point outside the image root")
    return parts


class Parent:
    """An open directory inside the root, and where it really is (its resolved components)."""

    def __init__(self, fd: int, parts: tuple[str, ...]):
        self.fd = fd
        self.parts = parts

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "Parent":
        return self

    def __exit__(self, *_) -> None:
        self.close()


class SafeRoot:
    """The root directory, opened once; `directory()` resolves paths inside it."""

    def __init__(self, path: str):
        self.path = path
        self.fd = os.open(path, _DIRECTORY)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "SafeRoot":
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def directory(self, parts: list[str], create: bool = False) -> Parent:
        """Open the directory at `parts`, following symlinks within the root (`..` stops at
        the root, absolute targets start from it); missing ones are made when `create`."""
        stack: list[tuple[str, int]] = [("", os.dup(self.fd))]
        pending = deque(parts)
        followed = 0
        try:
            while pending:
                name = pending.popleft()
                if name in ("", "."):
                    continue
                if name == "..":
                    if len(stack) > 1:
                        os.close(stack.pop()[1])
                    continue
                target = self._step(stack[-1][1], name, create)
                if isinstance(target, int):
                    stack.append((name, target))
                    continue
                followed += 1
                if followed > MAX_SYMLINKS:
                    raise UnsafePath(f"too many levels of symbolic links in '/{'/'.join(parts)}'")
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop()[1])
                pending.extendleft(reversed(target.split("/")))
            resolved = tuple(name for name, _ in stack[1:])
            return Parent(stack.pop()[1], resolved)
        finally:
            for _, fd in stack:
                os.close(fd)

    def _step(self, parent: int, name: str, create: bool) -> int | str:
        """The descriptor of directory `name` in `parent`, or the target when it is a symlink."""
        try:
            return os.open(name, _DIRECTORY, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(name, 0o755, dir_fd=parent)
            return os.open(name, _DIRECTORY, dir_fd=parent)
        except OSError as failure:
            if failure.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
        if stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode):
            return os.readlink(name, dir_fd=parent)
        raise UnsafePath(f"'{name}' is not a directory")


def lstat_or_none(parent: Parent, name: str) -> os.stat_result | None:
    try:
        return os.lstat(name, dir_fd=parent.fd)
    except FileNotFoundError:
        return None


def remove(parent: Parent, name: str) -> None:
    """Remove `name` (a whole tree if a directory) without following any symlink."""
    found = lstat_or_none(parent, name)
    if found is None:
        return
    if stat.S_ISDIR(found.st_mode):
        shutil.rmtree(name, dir_fd=parent.fd)
    else:
        os.unlink(name, dir_fd=parent.fd)


def chmod(parent: Parent, name: str, mode: int) -> None:
    """chmod without following a symlink (Linux has no lchmod: go through an O_PATH fd)."""
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent.fd)
    try:
        os.chmod(f"/proc/self/fd/{fd}", mode)
    finally:
        os.close(fd)


def write_file(root: SafeRoot, path: str, content: bytes, mode: int = 0o644) -> None:
    """Replace the file at `path` in the root with `content` (for metadata the unpacker adds)."""
    *directories, name = split_path(path)
    with root.directory(directories, create=True) as parent:
        remove(parent, name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(name, flags, 0o600, dir_fd=parent.fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            os.fchmod(handle.fileno(), mode)
