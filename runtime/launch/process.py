"""Containers started from a program that must not enter namespaces itself (the builder,
the kernel provisioner, instances): each runs its launcher in a process of its own."""

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch.options import ContainerOptions

# The launcher process reports its own errors on this descriptor, not on stderr, so that
# they can be raised in the caller instead of mixing with the payload's output.
ERROR_FD = 3


class ContainerProcess:
    """A running container. pid is the launcher's: a signal sent there reaches the payload."""

    def __init__(self, popen: subprocess.Popen, errors: int) -> None:
        self._popen = popen
        self._errors = errors
        self.pid = popen.pid

    def poll(self) -> int | None:
        """The payload's exit status when the container has ended, else None."""
        status = self._popen.poll()
        return None if status is None else self._finish(status)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the container to end; the payload's exit status. Raises JupytainerError
        when the container could not be started."""
        return self._finish(self._popen.wait(timeout))

    def send_signal(self, number: int) -> None:
        if self._popen.returncode is None:
            self._popen.send_signal(number)

    def _finish(self, status: int) -> int:
        if self._errors >= 0:
            message = _read_all(self._errors)
            self._errors = -1
            if message:
                raise JupytainerError(message)
        return status


def start_container(image: str | Path, action: str, args: list[str],
                    options: ContainerOptions, *, stdin=None, stdout=None, stderr=None,
                    cwd: str | Path | None = None) -> ContainerProcess:
    """Start action in image without waiting; stdin/stdout/stderr as for subprocess.Popen.

    The container starts from options.host_env (default: this process's environment) and
    in cwd (default: this process's working directory).
    """
    from jupytainer.runtime.image import resolve_image

    resolve_image(image)
    request = json.dumps({"image": os.fspath(image), "action": action, "args": list(args),
                          "options": asdict(options)})
    reader, writer = os.pipe()
    try:
        popen = subprocess.Popen(
            [sys.executable, "-m", "jupytainer.runtime.launch", request],
            stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd, pass_fds=(writer,),
            env=options.host_env, preexec_fn=lambda: os.dup2(writer, ERROR_FD))
    finally:
        os.close(writer)
    return ContainerProcess(popen, reader)


def run_container(image: str | Path, action: str, args: list[str],
                  options: ContainerOptions) -> int:
    """Run action (exec, run, shell, test or start) in image and wait; the payload's exit
    status. Raises JupytainerError for a container that cannot start."""
    return start_container(image, action, args, options).wait()


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace").strip()
