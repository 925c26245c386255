"""Squashfs partitions at an offset in a file: mounted (loop device as root, squashfuse in
a user namespace) or extracted once into the cache."""

import errno
import os
import struct

from jupytainer.runtime import cache
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch import syscalls

LOOP_CTL_GET_FREE = 0x4C82
LOOP_CONFIGURE = 0x4C0A
LO_FLAGS_READ_ONLY = 1
LO_FLAGS_AUTOCLEAR = 4

# struct loop_config: fd, block_size, struct loop_info64 (5 u64, 4 u32, 160 bytes of names
# and key, 2 u64), 8 reserved u64.
_LOOP_CONFIG = struct.Struct("=II QQQQQ IIII 64s64s32s QQ 64x")

FUSE_MOUNTERS = ("squashfuse_ll", "squashfuse")


def loop_mount(image_file: str, offset: int, size: int, target: str) -> None:
    """Mount the partition read-only through a loop device that frees itself at unmount."""
    import fcntl

    backing = os.open(image_file, os.O_RDONLY | os.O_CLOEXEC)
    try:
        device, path = _configure_loop(fcntl, backing, offset, size)
        try:
            syscalls.mount(path, target, "squashfs", syscalls.MS_RDONLY | syscalls.MS_NODEV)
        finally:
            os.close(device)
    finally:
        os.close(backing)


def _configure_loop(fcntl, backing: int, offset: int, size: int) -> tuple[int, str]:
    """A free loop device attached to backing, returned open (closing it releases it unless
    it is mounted by then) with its path."""
    flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR
    config = _LOOP_CONFIG.pack(backing, 0, 0, 0, 0, offset, size, 0, 0, 0, flags,
                               b"", b"", b"", 0, 0)
    control = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
    try:
        for _ in range(32):
            number = fcntl.ioctl(control, LOOP_CTL_GET_FREE)
            path = f"/dev/loop{number}"
            device = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                fcntl.ioctl(device, LOOP_CONFIGURE, config)
                return device, path
            except OSError as failure:
                os.close(device)
                if failure.errno != errno.EBUSY:
                    raise
    finally:
        os.close(control)
    raise OSError(errno.EBUSY, "no free loop device")


def fuse_mounter() -> str | None:
    """The path of the squashfuse program to use, or None when FUSE cannot be used."""
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return None
    for directory in os.environ.get("PATH", "/usr/bin:/bin").split(":") + ["/usr/bin"]:
        for name in FUSE_MOUNTERS:
            candidate = os.path.join(directory, name)
            if os.access(candidate, os.X_OK):
                return candidate
    return None


def fuse_mount(mounter: str, image_file: str, offset: int, target: str) -> None:
    """Mount the partition with squashfuse (see fuse_serve)."""
    fuse_serve([mounter, "-f", "-o", f"offset={offset}", image_file], target,
               f"fuse.{os.path.basename(mounter)}", syscalls.MS_RDONLY)


def fuse_serve(argv: list[str], target: str, fstype: str, flags: int = 0) -> int:
    """Mount a FUSE file system on target ourselves and hand the connection to the program
    argv (given `/dev/fd/N` as its mount point, which libfuse 3 understands); its pid.

    The mount is made here because a program this process starts in a user namespace
    loses the capabilities that mounting needs. The program stays in the foreground as a
    child of the container's init, and so ends with the container.
    """
    # Limitation: the daemon runs inside the container's PID namespace, so `ps` in the
    # container lists it (Apptainer's runs outside); it must, to end with the container.
    connection = os.open("/dev/fuse", os.O_RDWR)
    os.set_inheritable(connection, True)
    try:
        options = (f"fd={connection},rootmode=40000,user_id={os.getuid()},"
                   f"group_id={os.getgid()},allow_other")
        syscalls.mount(os.path.basename(argv[0]), target, fstype,
                       flags | syscalls.MS_NOSUID | syscalls.MS_NODEV, options)
        return os.posix_spawn(argv[0], [*argv, f"/dev/fd/{connection}"], os.environ)
    finally:
        os.close(connection)


def partition_digest(image_file: str, offset: int, size: int) -> str:
    """The sha256 of the partition's bytes, remembered per file version so that a file is
    read in full only once. The memo's name is the version itself, not a hash of it: hashlib
    (OpenSSL) costs more to import than the rest of a container start."""
    info = os.stat(image_file)
    key = f"{info.st_dev}-{info.st_ino}-{info.st_size}-{info.st_mtime_ns}-{offset}-{size}"
    memo = os.path.join(cache.cache_dir("digests"), key)
    try:
        with open(memo) as handle:
            return handle.read().strip()
    except FileNotFoundError:
        pass

    import hashlib

    digest = hashlib.sha256()
    with open(image_file, "rb") as handle:
        handle.seek(offset)
        remaining = size
        while remaining > 0:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                break
            digest.update(block)
            remaining -= len(block)
    _write_atomically(memo, digest.hexdigest() + "\n")
    return digest.hexdigest()


def extracted(image_file: str, offset: int, size: int) -> str:
    """A directory holding the partition's files: extracted on first use into the cache,
    keyed by the partition's digest, and reused. Safe against concurrent launches."""
    import fcntl

    digest = partition_digest(image_file, offset, size)
    sandboxes = cache.cache_dir("sandbox")
    final = os.path.join(sandboxes, digest)
    if os.path.isdir(final):
        return final
    with open(os.path.join(sandboxes, f".{digest}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(final):
            _extract_to(image_file, offset, sandboxes, final)
    return final


def _extract_to(image_file: str, offset: int, sandboxes: str, final: str) -> None:
    import shutil
    import subprocess
    import tempfile

    from jupytainer.runtime import log

    log.info("Converting SIF file to temporary sandbox...")
    partial = tempfile.mkdtemp(prefix=".partial-", dir=sandboxes)
    target = os.path.join(partial, "root")
    command = ["unsquashfs", "-no-xattrs", "-quiet", "-no-progress", "-o", str(offset),
               "-d", target, image_file]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0 and not _only_special_files_failed(result.stderr):
        shutil.rmtree(partial, ignore_errors=True)
        raise _extraction_error(image_file, sandboxes, result.stderr)
    os.rename(target, final)
    os.rmdir(partial)


def _only_special_files_failed(stderr: str) -> bool:
    """unsquashfs run by a user cannot create device nodes, and says so for each; the rest
    of the tree is complete (the container gets its /dev from the host anyway)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    return bool(lines) and all("because you're not superuser" in line for line in lines)


def extraction_error(image_file: str, failure: OSError) -> JupytainerError:
    """The one line for an extraction that failed with an OSError (such as a full disk)."""
    return _extraction_error(image_file, cache.cache_root(), failure.strerror or str(failure))


def _extraction_error(image_file: str, sandboxes: str, stderr: str) -> JupytainerError:
    if "No space left" in stderr or "Disk quota" in stderr:
        return JupytainerError(
            f"no space to extract {image_file} into the cache {sandboxes} (it is extracted "
            "when FUSE cannot mount it, or with --unsquash): free space there, or set "
            "APPTAINER_CACHEDIR to a larger file system")
    last = stderr.strip().splitlines()[-1] if stderr.strip() else "unsquashfs failed"
    return JupytainerError(f"cannot extract {image_file}: {last}")


def _write_atomically(path: str, text: str) -> None:
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w") as handle:
        handle.write(text)
    os.replace(partial, path)
