"""Running a container from this process: plan on the host, open the root file system,
enter the namespaces, start the container's init, and wait for it while passing signals on.

This is the command line's path; it stays in the calling process so that a start costs one
fork, not a new interpreter.
"""

import os

# signal's C half: the same calls and numbers, without the enum wrappers, whose import
# would cost each container start several milliseconds.
import _signal as signal

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.image import resolve_image
from jupytainer.runtime.launch import syscalls as sc
from jupytainer.runtime.launch.init import WATCHED, run_init, supervise
from jupytainer.runtime.launch.options import ContainerOptions
from jupytainer.runtime.launch.plan import Plan, make_plan

SESSION_PREFIX = "jupytainer-session-"
# The kernel gives the initial user namespace this fixed inode number (PROC_USER_INIT_INO).
INITIAL_USER_NAMESPACE_INODE = 0xEFFFFFFD


def launch(image: str | os.PathLike, action: str, args: list[str],
           options: ContainerOptions, started=None) -> int:
    """Run action in the image from this process; the payload's exit status. started, if
    given, is called with the pid of the container's init once the payload runs.

    This process enters the container's user namespace (when not root): use it only in a
    process of its own, such as the command line's.
    """
    host_env = dict(os.environ if options.host_env is None else options.host_env)
    resolved = resolve_image(image)
    plan = make_plan(resolved, action, args, options, host_env)
    _open_root_filesystem(plan, options)
    plan.session, held = _make_session_dir(host_env)
    try:
        return _run(plan, started)
    finally:
        _remove_session_dir(plan.session, held)


def _open_root_filesystem(plan: Plan, options: ContainerOptions) -> None:
    """Choose how init mounts the root: in place, loop device, squashfuse, or extracted."""
    image = plan.image
    if image.is_sandbox:
        plan.rootfs, plan.rootfs_path = "sandbox", image.path
        return
    if plan.writable:
        # Limitation: SIF overlay partitions are not supported, so a SIF is never writable.
        raise JupytainerError(f"{image.name} is a read-only SIF image: use --writable-tmpfs "
                              "or --overlay, or build a sandbox to use --writable")
    if not plan.userns and not options.unsquash and _in_initial_user_namespace():
        plan.rootfs = "loop"
        return
    from jupytainer.runtime import squashfs

    plan.mounter = None if options.unsquash else squashfs.fuse_mounter()
    if plan.mounter:
        plan.rootfs = "fuse"
        return
    plan.rootfs = "extracted"
    try:
        plan.rootfs_path = squashfs.extracted(image.path, image.partition_offset,
                                              image.partition_size)
    except OSError as failure:
        raise squashfs.extraction_error(image.path, failure) from None


def _in_initial_user_namespace() -> bool:
    """Whether root here is the machine's root: only that one can mount a loop device (root
    of a user namespace, as in another container, uses FUSE like any user)."""
    return os.stat("/proc/self/ns/user").st_ino == INITIAL_USER_NAMESPACE_INODE


def _make_session_dir(host_env: dict[str, str]) -> tuple[str, int]:
    """An empty directory that init mounts the session tmpfs on, inside its namespace, and
    a descriptor holding a lock on it for this launcher's lifetime.

    The lock, not the pid in the name, says the directory is in use: a launcher nested in
    a container shares /tmp but not the pid namespace, so pids cannot tell who is alive,
    while a lock on the same inode is seen from every namespace.
    """
    base = host_env.get("XDG_RUNTIME_DIR", "")
    if not (base and os.access(base, os.W_OK | os.X_OK)):
        base = "/tmp"
    _remove_stale_session_dirs(base)
    for attempt in range(100):
        path = os.path.join(base, f"{SESSION_PREFIX}{os.getpid()}-{attempt}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        held = _lock_session_dir(path)
        if held is not None:
            return path, held
    raise JupytainerError(f"cannot create a session directory in {base}: clean it up")


def _lock_session_dir(path: str) -> int | None:
    """A descriptor of path holding its lock; None if another launcher's cleanup removed
    the directory between its creation and the lock."""
    import fcntl

    try:
        held = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    fcntl.flock(held, fcntl.LOCK_EX)
    if _same_file(held, path):
        return held
    os.close(held)
    return None


def _same_file(fd: int, path: str) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _remove_session_dir(path: str, held: int) -> None:
    """Remove this launcher's directory, then drop its lock. The directory may be gone
    already: a launcher of an older version judged it by its pid."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    finally:
        os.close(held)


def _remove_stale_session_dirs(base: str) -> None:
    """Remove the empty session directories of launchers that were killed outright (they
    could not clean up): those whose lock nobody holds. Other users' directories stay, as
    the sticky /tmp wants."""
    import fcntl

    for name in os.listdir(base):
        if not name.startswith(SESSION_PREFIX):
            continue
        path = os.path.join(base, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _same_file(fd, path):
                os.rmdir(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def _run(plan: Plan, started) -> int:
    if plan.userns:
        from jupytainer.runtime.launch import userns

        userns.enter(plan.fakeroot, _real_user_name())
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
    try:
        sc.unshare(sc.CLONE_NEWPID)
        reader, writer = os.pipe2(os.O_CLOEXEC)
        init = os.fork()
        if init == 0:
            os.close(reader)
            run_init(plan, writer)
        os.close(writer)
        failure = _read_all(reader)
        if failure:
            os.waitpid(init, 0)
            raise JupytainerError(failure)
        if started is not None:
            started(init)
        return supervise(init)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def _real_user_name() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())
