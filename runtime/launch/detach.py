"""Detached containers (instances): the launcher leaves its caller, keeps running after
the caller's command ends, and writes the payload's output to files."""

import json
import os
import subprocess
import sys

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch.options import ContainerOptions
from jupytainer.runtime.launch.process import STARTED


def start_detached(image: str, action: str, args: list[str], options: ContainerOptions,
                   stdout_path: str, stderr_path: str) -> tuple[int, int]:
    """Start action in image with no parent to outlive; (launcher pid, init pid) once the
    payload runs. Output is appended to the two files. JupytainerError if it cannot start.

    The launcher runs in a session of its own, with no parent-death signal: signalling
    the launcher reaches the container's init, which passes the signal on.
    """
    reader, writer = os.pipe()
    request = json.dumps({"image": image, "action": action, "args": list(args),
                          "options": options.as_dict(), "report_fd": writer, "detach": True})
    try:
        with open(stdout_path, "ab") as out, open(stderr_path, "ab") as err:
            intermediate = subprocess.Popen(
                [sys.executable, "-m", "jupytainer.runtime.launch", request],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, pass_fds=(writer,),
                env=options.host_env, start_new_session=True)
    finally:
        os.close(writer)
    intermediate.wait()
    answer = _read_report(reader)
    if answer[:1] == STARTED:
        launcher, init = answer[1:].split()
        return int(launcher), int(init)
    message = answer.decode(errors="replace").strip()
    raise JupytainerError(message or f"the launcher of {image} ended before starting it")


def _read_report(reader: int) -> bytes:
    """The launcher's report: an error, up to the end, or STARTED and one line (the
    container's init holds the pipe open, so the end never comes after STARTED)."""
    answer = b""
    with os.fdopen(reader, "rb", buffering=0) as report:
        while not answer.endswith(b"\n") and (chunk := report.read(4096)):
            answer += chunk
    return answer
