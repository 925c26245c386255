"""Applying an image's layers, in order, to a root filesystem: gzip, zstd or plain tar, with
OCI whiteouts and opaque directories. A layer is hostile input: nothing in it may write
outside the root, and whatever cannot be applied safely stops the unpacking with a message."""

import errno
import gzip
import io
import os
import stat
import tarfile
import zlib
from typing import BinaryIO

import zstandard

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci import saferoot
from jupytainer.runtime.oci.digests import DigestMismatch, DigestReader
from jupytainer.runtime.oci.saferoot import Parent, SafeRoot, UnsafePath, split_path
from jupytainer.runtime.sif.text import readable_size

_CHUNK = 1 << 20
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class LayerError(JupytainerError):
    """A layer that cannot be applied: corrupt, truncated, too big, or unsafe."""


def apply_layer(root: SafeRoot, stream: BinaryIO, label: str, *, digest: str | None = None,
                diff_id: str | None = None, privileged: bool | None = None) -> None:
    """Apply one layer read from `stream` (compressed or not) to `root`. `digest` is checked
    against the stream as read, `diff_id` against the uncompressed tar; `label` (such as
    `layer 2/5 (3f2a1c9)`) starts every message."""
    privileged = os.geteuid() == 0 if privileged is None else privileged
    applier = _Applier(root, label, privileged)
    try:
        packed = DigestReader(stream, digest, label)
        unpacked = _decompress(io.BufferedReader(packed, _CHUNK))
        plain = DigestReader(unpacked, diff_id, f"{label} (uncompressed)")
        archive = tarfile.open(fileobj=io.BufferedReader(plain, _CHUNK), mode="r|")
        for member in archive:
            applier.apply(member, archive)
        plain.verify()
        packed.verify()
    except (DigestMismatch, LayerError):
        raise
    except UnsafePath as problem:
        raise LayerError(f"{label}: {problem}: the image is damaged or malicious") from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile,
            zstandard.ZstdError) as problem:
        raise LayerError(f"{label} is truncated or corrupt ({problem}): pull it again") from None
    except OSError as problem:
        raise _os_error(problem, label, root) from None
    applier.finish()


def _decompress(stream: io.BufferedReader):
    magic = stream.peek(4)[:4]
    if magic.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if magic == _ZSTD_MAGIC:
        return zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
    return stream


def _os_error(problem: OSError, label: str, root: SafeRoot) -> LayerError:
    if problem.errno in (errno.ENOSPC, errno.EDQUOT):
        return LayerError(f"{label}: no space left under {root.path}: free some space or "
                          "unpack somewhere larger")
    where = f" '{problem.filename}'" if problem.filename else ""
    return LayerError(f"{label}: cannot write{where}: {problem.strerror or problem}")


class _Applier:
    """The state of one layer's application: what it created (whiteouts and opaque
    directories remove only what lower layers left), what it had to leave out."""

    def __init__(self, root: SafeRoot, label: str, privileged: bool):
        self.root = root
        self.label = label
        self.privileged = privileged
        self.created: set[tuple[str, ...]] = set()
        self.directory_times: list[tuple[list[str], float]] = []
        self.skipped_devices: list[str] = []
        self.cleared_setid: list[str] = []
        self.unowned = 0

    def apply(self, member: tarfile.TarInfo, archive: tarfile.TarFile) -> None:
        parts = split_path(member.name)
        if not parts:
            return
        *directories, name = parts
        if name.startswith(_WHITEOUT):
            self._whiteout(directories, name)
            return
        with self.root.directory(directories, create=True) as parent:
            self._make(parent, name, member, archive)
            self.created.add(parent.parts + (name,))

    def _make(self, parent: Parent, name: str, member: tarfile.TarInfo,
              archive: tarfile.TarFile) -> None:
        if member.isdir():
            self._directory(parent, name, member)
        elif member.isreg():
            self._file(parent, name, member, archive)
        elif member.issym():
            saferoot.remove(parent, name)
            os.symlink(member.linkname, name, dir_fd=parent.fd)
            self._finish_entry(parent, name, member, chmod=False)
        elif member.islnk():
            self._hard_link(parent, name, member)
        elif member.ischr() or member.isblk():
            self._device(parent, name, member)
        elif member.isfifo():
            saferoot.remove(parent, name)
            os.mkfifo(name, 0o600, dir_fd=parent.fd)
            self._finish_entry(parent, name, member)
        else:
            log.verbose(f"{self.label}: skipping '{member.name}' of unknown type")

    def _directory(self, parent: Parent, name: str, member: tarfile.TarInfo) -> None:
        found = saferoot.lstat_or_none(parent, name)
        if found is not None and not stat.S_ISDIR(found.st_mode):
            saferoot.remove(parent, name)
            found = None
        if found is None:
            os.mkdir(name, 0o700, dir_fd=parent.fd)
        self._finish_entry(parent, name, member, times=False)
        self.directory_times.append(([*parent.parts, name], member.mtime))

    def _file(self, parent: Parent, name: str, member: tarfile.TarInfo,
              archive: tarfile.TarFile) -> None:
        saferoot.remove(parent, name)
        self._check_space(member)
        fd = os.open(name, _CREATE, 0o600, dir_fd=parent.fd)
        with os.fdopen(fd, "wb") as target:
            source = archive.extractfile(member)
            while chunk := source.read(_CHUNK):
                target.write(chunk)
        self._finish_entry(parent, name, member)

    def _hard_link(self, parent: Parent, name: str, member: tarfile.TarInfo) -> None:
        """Link to a file already in the root; the link's target is resolved inside it."""
        try:
            *directories, target = split_path(member.linkname)
        except (UnsafePath, ValueError):
            raise LayerError(f"{self.label}: hard link '{member.name}' -> '{member.linkname}' "
                             "points outside the image root: the image is damaged or "
                             "malicious") from None
        missing = LayerError(f"{self.label}: hard link '{member.name}' -> "
                             f"'{member.linkname}' has no file to link to")
        try:
            origin = self.root.directory(directories)
        except (FileNotFoundError, UnsafePath):
            raise missing from None
        with origin:
            found = saferoot.lstat_or_none(origin, target)
            if found is None or stat.S_ISDIR(found.st_mode):
                raise missing
            existing = saferoot.lstat_or_none(parent, name)
            if existing and (existing.st_ino, existing.st_dev) == (found.st_ino, found.st_dev):
                return
            saferoot.remove(parent, name)
            os.link(target, name, src_dir_fd=origin.fd, dst_dir_fd=parent.fd,
                    follow_symlinks=False)

    def _device(self, parent: Parent, name: str, member: tarfile.TarInfo) -> None:
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        if not self.privileged:
            self.skipped_devices.append(member.name)
            return
        saferoot.remove(parent, name)
        try:
            os.mknod(name, kind | 0o600, os.makedev(member.devmajor, member.devminor),
                     dir_fd=parent.fd)
        except PermissionError:
            self.skipped_devices.append(member.name)
            return
        self._finish_entry(parent, name, member)

    def _finish_entry(self, parent: Parent, name: str, member: tarfile.TarInfo,
                      chmod: bool = True, times: bool = True) -> None:
        """Owner, then mode (a chown clears setuid bits), then times."""
        if self.privileged:
            try:
                os.chown(name, member.uid, member.gid, dir_fd=parent.fd, follow_symlinks=False)
            except (PermissionError, OSError) as problem:
                if problem.errno not in (errno.EPERM, errno.EINVAL):
                    raise
                self.unowned += 1
        if chmod:
            saferoot.chmod(parent, name, self._mode(member))
        if times:
            os.utime(name, (member.mtime, member.mtime), dir_fd=parent.fd,
                     follow_symlinks=False)

    def _mode(self, member: tarfile.TarInfo) -> int:
        mode = member.mode & 0o7777
        if self.privileged:
            return mode
        if mode & (stat.S_ISUID | stat.S_ISGID) and not member.isdir():
            self.cleared_setid.append(member.name)
            mode &= ~(stat.S_ISUID | stat.S_ISGID)
        # Unprivileged, the files are the user's own: keep them writable and directories
        # searchable, so that later layers and the user's own clean-up can change them.
        return mode | (0o700 if member.isdir() else 0o600)

    def _check_space(self, member: tarfile.TarInfo) -> None:
        space = os.fstatvfs(self.root.fd)
        free = space.f_bavail * space.f_frsize
        if member.size > free:
            raise LayerError(f"{self.label}: '{member.name}' needs "
                             f"{readable_size(member.size)} but only {readable_size(free)} are "
                             f"free under {self.root.path}: free some space or unpack "
                             "somewhere larger")

    def _whiteout(self, directories: list[str], name: str) -> None:
        try:
            parent = self.root.directory(directories)
        except (FileNotFoundError, UnsafePath):
            return
        with parent:
            if name == _OPAQUE:
                self._clear_lower(parent)
            elif name.startswith(_WHITEOUT + _WHITEOUT):
                log.verbose(f"{self.label}: ignoring the aufs entry '{name}'")
            elif parent.parts + (name[len(_WHITEOUT):],) not in self.created:
                saferoot.remove(parent, name[len(_WHITEOUT):])

    def _clear_lower(self, parent: Parent) -> None:
        listing = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=parent.fd)
        try:
            children = os.listdir(listing)
        finally:
            os.close(listing)
        for child in children:
            if parent.parts + (child,) not in self.created:
                saferoot.remove(parent, child)

    def finish(self) -> None:
        """Directory times last (writing into a directory changes its time), then the report
        of what an unprivileged user could not reproduce."""
        for parts, mtime in reversed(self.directory_times):
            *directories, name = parts
            try:
                with self.root.directory(directories) as parent:
                    os.utime(name, (mtime, mtime), dir_fd=parent.fd, follow_symlinks=False)
            except (FileNotFoundError, UnsafePath):
                continue
        if self.skipped_devices:
            log.warning(f"{self.label}: skipped {len(self.skipped_devices)} device node(s) "
                        f"({_examples(self.skipped_devices)}): creating them needs root")
        if self.cleared_setid:
            log.warning(f"{self.label}: cleared the setuid/setgid bit of "
                        f"{len(self.cleared_setid)} file(s) ({_examples(self.cleared_setid)}): "
                        "unprivileged unpacking does not keep them")
        if self.unowned:
            log.warning(f"{self.label}: could not give {self.unowned} file(s) their owner from "
                        "the image (IDs not mapped here); they belong to the unpacking user")
        # Limitation: extended attributes in layers (file capabilities, SELinux labels) are
        # not applied; a program that relies on file capabilities loses them.


def _examples(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return shown + (", ..." if len(names) > 3 else "")

