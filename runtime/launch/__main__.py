"""The launcher process of `start_container` and of detached containers (instances): one
JSON argument says what to run."""

import json
import os
import signal
import sys

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch.launcher import launch
from jupytainer.runtime.launch.options import ContainerOptions
from jupytainer.runtime.launch.process import STARTED
from jupytainer.runtime.launch.syscalls import set_parent_death_signal


def main() -> int:
    request = json.loads(sys.argv[1])
    report = request["report_fd"]
    detach = request.get("detach", False)
    if detach:
        _leave_parent()
    else:
        # A container started for a program (a kernel, a build step) must not outlive it.
        set_parent_death_signal(signal.SIGKILL)
        if os.getppid() != request.get("parent", os.getppid()):
            return 255  # the parent ended before the signal was armed
    # Neither the container's init nor its payload may hold the report pipe open.
    os.set_inheritable(report, False)
    try:
        return launch(request["image"], request["action"], request["args"],
                      ContainerOptions(**request["options"]),
                      started=lambda init: _report_started(report, init, detach))
    except JupytainerError as failure:
        os.write(report, str(failure).encode())
        return failure.exit_status


def _leave_parent() -> None:
    """Go on in a child that the caller does not have to reap: a detached container
    outlives the command that started it."""
    if os.fork() != 0:
        os._exit(0)


def _report_started(report: int, init: int, detach: bool) -> None:
    """STARTED; a detached launcher adds its own and its init's pid and closes the pipe,
    since its caller is not waiting for it to end."""
    if not detach:
        os.write(report, STARTED)
        return
    os.write(report, STARTED + f"{os.getpid()} {init}\n".encode())
    os.close(report)


status = main()
# Skip the interpreter's teardown: nothing is left to tidy, and it is slower than a start.
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
