"""The launcher process of `start_container`: one JSON argument says what to run."""

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
    # A container started for a program (a kernel, a build step) must not outlive it.
    set_parent_death_signal(signal.SIGKILL)
    request = json.loads(sys.argv[1])
    report = request["report_fd"]
    # Neither the container's init nor its payload may hold the report pipe open.
    os.set_inheritable(report, False)
    try:
        return launch(request["image"], request["action"], request["args"],
                      ContainerOptions(**request["options"]),
                      started=lambda: os.write(report, STARTED))
    except JupytainerError as failure:
        os.write(report, str(failure).encode())
        return failure.exit_status


status = main()
# Skip the interpreter's teardown: nothing is left to tidy, and it is slower than a start.
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
