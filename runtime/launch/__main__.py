"""The launcher process of `start_container`: one JSON argument says what to run."""

import json
import os
import sys

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch.launcher import launch
from jupytainer.runtime.launch.options import ContainerOptions
from jupytainer.runtime.launch.process import ERROR_FD


def main() -> int:
    request = json.loads(sys.argv[1])
    try:
        return launch(request["image"], request["action"], request["args"],
                      ContainerOptions(**request["options"]))
    except JupytainerError as failure:
        os.write(ERROR_FD, str(failure).encode())
        return failure.exit_status


sys.exit(main())
