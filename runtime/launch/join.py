"""Running a command in a running instance: this process joins the namespaces of the
instance's init (user, mount, PID, UTS, IPC, network, as the instance has them), then
starts the payload there and waits for it, passing signals on.

Like `launcher.launch`, it changes the calling process for good: use it only in a process
of its own, such as the command line's.
"""

import os

# signal's C half: the same calls and numbers, without the enum wrappers, whose import
# would cost each container start several milliseconds.
import _signal as signal

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.image import resolve_image
from jupytainer.runtime.launch import environment  # noqa: F401 (needed after the join)
from jupytainer.runtime.launch import syscalls as sc
from jupytainer.runtime.launch.init import WATCHED, exec_payload, payload_command, supervise
from jupytainer.runtime.launch.options import ContainerOptions
from jupytainer.runtime.launch.plan import make_plan

# The user namespace comes first: it grants the rights to join the others. The mount
# namespace comes last, since joining it changes this process's root directory.
NAMESPACES = (("user", sc.CLONE_NEWUSER), ("ipc", sc.CLONE_NEWIPC), ("uts", sc.CLONE_NEWUTS),
              ("net", sc.CLONE_NEWNET), ("pid", sc.CLONE_NEWPID), ("mnt", sc.CLONE_NEWNS))


def join(init: int, image: str, action: str, args: list[str],
         options: ContainerOptions) -> int:
    """Run action in the instance whose init has pid init; the payload's exit status."""
    # Limitation: the environment comes from this command's flags, not from those the
    # instance was started with (--cleanenv, --env ... are not remembered); and a pid
    # reused between the caller's liveness check and the opening of its namespaces would
    # be joined (the window is a few system calls long).
    host_env = dict(os.environ if options.host_env is None else options.host_env)
    plan = make_plan(resolve_image(image), action, args, options, host_env)
    _enter(_open_namespaces(init))
    _change_directory([plan.cwd, plan.home, "/"])
    argv, env = payload_command(plan)

    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
    try:
        return _run(argv, env)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _open_namespaces(init: int) -> list[tuple[int, int]]:
    """Open the namespaces of init that differ from ours, before any is joined (joining
    one changes what this process may open)."""
    opened = []
    for name, kind in NAMESPACES:
        path = f"/proc/{init}/ns/{name}"
        try:
            if os.stat(path).st_ino == os.stat(f"/proc/self/ns/{name}").st_ino:
                continue
            opened.append((os.open(path, os.O_RDONLY | os.O_CLOEXEC), kind))
        except OSError as failure:
            _close(opened)
            raise JupytainerError(f"cannot join the instance (PID {init}): "
                                  f"{failure.strerror}: is it still running?") from None
    return opened


def _enter(opened: list[tuple[int, int]]) -> None:
    try:
        for descriptor, kind in opened:
            sc.setns(descriptor, kind)
    except OSError as failure:
        raise JupytainerError(f"cannot join the instance's namespaces: {failure}") from None
    finally:
        _close(opened)


def _close(opened: list[tuple[int, int]]) -> None:
    for descriptor, _ in opened:
        os.close(descriptor)


def _change_directory(candidates: list[str]) -> None:
    """The first of candidates that exists in the instance: it was started with the
    mounts of its own command line, which may not hold the caller's directory."""
    for path in candidates:
        try:
            os.chdir(path)
            return
        except OSError:
            continue


def _run(argv: list[str], env: dict[str, str]) -> int:
    """Fork the payload (the first process this one makes in the instance's PID
    namespace) and supervise it."""
    reader, writer = os.pipe2(os.O_CLOEXEC)
    payload = os.fork()
    if payload == 0:
        os.close(reader)
        exec_payload(argv, env, writer)
    os.close(writer)
    failure = os.read(reader, 4096)
    os.close(reader)
    if failure:
        os.waitpid(payload, 0)
        raise JupytainerError(failure.decode(errors="replace"))
    return supervise(payload)
