"""Containers started from a program that must not enter namespaces itself (the builder,
the kernel provisioner, instances): each runs its launcher in a process of its own."""

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch.options import ContainerOptions

# The launcher process reports on a pipe of its own, not on stderr: STARTED once the
# payload runs, or its own error, which the caller raises instead of mixing it with output.
STARTED = b"+"

# The launcher's parent-death signal fires when the *thread* that forked it ends, so
# callers' short-lived threads (an executor's, say) fork through this one, which lives as
# long as the process.
_FORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jupytainer-launcher-fork")


class ContainerProcess:
    """A running container. pid is the launcher's: a signal sent there reaches the payload."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self._popen = popen
        self.pid = popen.pid

    def poll(self) -> int | None:
        """The payload's exit status when the container has ended, else None."""
        status = self._popen.poll()
        return None if status is None else _shell_status(status)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the container to end; the payload's exit status (128+N for signal N)."""
        return _shell_status(self._popen.wait(timeout))

    def send_signal(self, number: int) -> None:
        """Signal the payload (through the launcher and the container's init)."""
        if self._popen.returncode is None:
            self._popen.send_signal(number)


def start_container(image: str | Path, action: str, args: list[str],
                    options: ContainerOptions, *, stdin=None, stdout=None, stderr=None,
                    cwd: str | Path | None = None,
                    pass_fds: tuple[int, ...] = ()) -> ContainerProcess:
    """Start action in image; returns once the payload runs, without waiting for it to end.
    Raises JupytainerError when the container cannot start.

    stdin/stdout/stderr are as for subprocess.Popen. The container starts from
    options.host_env (default: this process's environment) and in cwd (default: this
    process's working directory). The descriptors in pass_fds stay open in the payload,
    under the same numbers.
    """
    from jupytainer.runtime.image import resolve_image

    resolve_image(image)
    reader, writer = os.pipe()
    request = json.dumps({"image": os.fspath(image), "action": action, "args": list(args),
                          "options": options.as_dict(), "report_fd": writer,
                          "parent": os.getpid()})
    try:
        popen = _popen_from_a_lasting_thread(
            [sys.executable, "-m", "jupytainer.runtime.launch", request],
            stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd, pass_fds=(writer, *pass_fds),
            env=options.host_env)
    finally:
        os.close(writer)
    with os.fdopen(reader, "rb") as report:
        first = report.read(1)
        if first == STARTED:
            return ContainerProcess(popen)
        message = (first + report.read()).decode(errors="replace").strip()
    popen.wait()
    raise JupytainerError(message or f"the launcher of {image} ended before starting it")


def run_container(image: str | Path, action: str, args: list[str],
                  options: ContainerOptions) -> int:
    """Run action (exec, run, shell, test or start) in image and wait; the payload's exit
    status. Raises JupytainerError for a container that cannot start."""
    return start_container(image, action, args, options).wait()


def _popen_from_a_lasting_thread(argv: list[str], **kwargs) -> subprocess.Popen:
    if threading.current_thread() is threading.main_thread():
        return subprocess.Popen(argv, **kwargs)
    return _FORKER.submit(subprocess.Popen, argv, **kwargs).result()


def _shell_status(status: int) -> int:
    """A Popen return code as a shell reports it: 128+N for a launcher killed by signal N."""
    return 128 - status if status < 0 else status
