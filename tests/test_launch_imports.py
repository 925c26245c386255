"""Starting a container imports only what the launch needs: not argparse, dataclasses,
inspect, subprocess, json, shutil, re, enum or ctypes.util (whose find_library runs
ldconfig). Checked on the installed command, as root and as a user, with
`python -X importtime`, which lists every module the process imports."""

import sys

import pytest
from conftest import JUPYTAINER

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")

NOT_ON_THE_LAUNCH_PATH = {"argparse", "dataclasses", "inspect", "subprocess", "json",
                          "shutil", "re", "enum", "ctypes.util", "typing", "gettext"}


def imported_modules(identity, *args) -> set[str]:
    result = identity.run([sys.executable, "-X", "importtime", str(JUPYTAINER), *args])
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert lines, result.stderr
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}


@pytest.mark.parametrize("kind", ["sandbox", "sif"])
def test_exec_imports_nothing_it_does_not_need(identity, images, kind):
    # The first start of a SIF file reads its header with the SIF reader, then remembers
    # where its partition is: the launches after it are the ones that count.
    assert identity.jupytainer("exec", images.kind(kind), "true").returncode == 0
    modules = imported_modules(identity, "exec", images.kind(kind), "true")
    assert "jupytainer.runtime.launch.launcher" in modules
    assert modules & NOT_ON_THE_LAUNCH_PATH == set()


def test_run_with_flags_imports_nothing_it_does_not_need(identity, images):
    modules = imported_modules(identity, "--quiet", "run", "--contain", "-B", "/tmp",
                               "--env", "A=1", images.sandbox, "arg")
    assert modules & NOT_ON_THE_LAUNCH_PATH == set()
