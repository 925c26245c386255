"""The container's first process (PID 1 of its PID namespace): it builds the container's
view, starts the payload, passes every signal on to it, reaps every orphan, and exits with
the payload's status (128+N when the payload dies of signal N)."""

import os

# signal's C half: the same calls and numbers, without the enum wrappers, whose import
# would cost each container start several milliseconds.
import _signal as signal

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch import syscalls as sc
from jupytainer.runtime.launch.plan import Plan

# Signals that a terminal sends to its whole foreground process group carry this code:
# the payload has had them already, so passing them on would deliver them twice.
SI_KERNEL = 0x80
UNCATCHABLE = {signal.SIGKILL, signal.SIGSTOP}
FORWARDED = frozenset(signal.valid_signals() - UNCATCHABLE - {signal.SIGCHLD})
WATCHED = FORWARDED | {signal.SIGCHLD}


def run_init(plan: Plan, error_pipe: int) -> None:
    """Never returns: the process exits with the payload's status, or 255 if the container
    could not be set up (after writing one line saying why to error_pipe)."""
    try:
        # Whatever ends the launcher (even SIGKILL) ends init, and with it the namespace.
        sc.set_parent_death_signal(signal.SIGKILL)
        payload = _start(plan, error_pipe)
        os.close(error_pipe)
        os._exit(supervise_instance(payload) if plan.instance else supervise(payload))
    except JupytainerError as failure:
        _fail(error_pipe, str(failure))
    except OSError as failure:
        _fail(error_pipe, f"cannot start the container from {plan.image.name}: {failure}")
    except BaseException as failure:  # noqa: BLE001
        # This process is a fork of the launcher: it must never return into its code.
        _fail(error_pipe, f"internal error while starting the container: {failure!r}")


def _fail(error_pipe: int, message: str) -> None:
    os.write(error_pipe, message.encode(errors="replace"))
    os._exit(255)


def _start(plan: Plan, error_pipe: int) -> int:
    # Everything imported after build_view would be looked for in the container.
    from jupytainer.runtime.launch.view import build_view

    if plan.namespaces & sc.CLONE_NEWNET:
        from jupytainer.runtime.launch.network import loopback_up
    sc.unshare(sc.CLONE_NEWNS | plan.namespaces)
    build_view(plan)
    if plan.hostname:
        sc.sethostname(plan.hostname)
    if plan.namespaces & sc.CLONE_NEWNET:
        loopback_up()
    argv, env = payload_command(plan)
    try:
        os.chdir(plan.cwd)
    except OSError:
        raise JupytainerError(f"cannot enter the working directory {plan.cwd} in the "
                              "container: create it, or choose another with --pwd") from None
    pid = os.fork()
    if pid == 0:
        if plan.instance:
            # An instance's payload leads a process group, which a stop signals as a whole.
            os.setsid()
        exec_payload(argv, env, error_pipe)
    return pid


def payload_command(plan: Plan) -> tuple[list[str], dict[str, str]]:
    from jupytainer.runtime.launch import environment

    if os.path.exists(environment.CONTAINER_SHELL):
        return plan.argv, plan.env
    return environment.direct_command(plan.action, plan.args, plan.env)


def exec_payload(argv: list[str], env: dict[str, str], error_pipe: int) -> None:
    """In the payload's process: default signal handling, then the command."""
    try:
        for number in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.execvpe(argv[0], argv, env)
    except OSError as failure:
        os.write(error_pipe, f"cannot run {argv[0]} in the container: "
                             f"{failure.strerror}".encode())
    os._exit(255)


def supervise(payload: int) -> int:
    """Forward signals to the payload and reap children until the payload ends; its exit
    status, shell style. The watched signals must already be blocked."""
    while True:
        info = signal.sigwaitinfo(WATCHED)
        if info.si_signo != signal.SIGCHLD:
            if info.si_code != SI_KERNEL:
                _forward(payload, info.si_signo)
            continue
        status = _reap(payload)
        if status is not None:
            return status


def supervise_instance(payload: int) -> int:
    """An instance's init: it outlives its startscript, so that commands can join the
    instance later, and ends once a signal has reached the payload's process group and
    that group is empty. The watched signals must already be blocked."""
    stopping = False
    while True:
        info = signal.sigwaitinfo(WATCHED)
        if info.si_signo != signal.SIGCHLD:
            stopping = True
            _forward(-payload, info.si_signo)
        else:
            _reap(payload)
        if stopping and not _group_alive(payload):
            return 0


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _forward(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _reap(payload: int) -> int | None:
    """Collect every finished child; the payload's exit status if it was one of them."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid == 0:
            return None
        if pid == payload:
            code = os.waitstatus_to_exitcode(status)
            return 128 - code if code < 0 else code
