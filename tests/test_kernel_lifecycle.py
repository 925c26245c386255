"""Container kernels start, answer, and end without a trace: after shutdowns, many at
once, a crash of the kernel, and a kill of the Jupyter client that started them."""

import json
import os
import signal
import subprocess

import pytest
from images_cache import python_kernel_image
from kernel_support import DRIVER, VENV_PYTHON, KernelSetup

pytestmark = pytest.mark.slow

CYCLES = 100
AT_ONCE = 10


@pytest.fixture
def kernel(identity) -> KernelSetup:
    setup = KernelSetup(identity)
    installed = setup.install(python_kernel_image(), "box")
    assert installed.returncode == 0, installed.stderr
    return setup


def test_start_and_shutdown_cycles_leave_no_mount_and_no_process(kernel):
    result = kernel.drive("cycles", "box", str(CYCLES), timeout=1800)

    assert result["answers"] == ["42\n"] * CYCLES
    assert kernel.leftovers() == []


def test_ten_kernels_at_once_all_answer(kernel):
    result = kernel.drive("parallel", "box", str(AT_ONCE))

    assert result["answers"] == [f"{index * 1000 + 7}\n" for index in range(AT_ONCE)]
    assert kernel.leftovers() == []


def test_a_kernel_that_crashes_leaves_nothing(kernel):
    result = kernel.drive("crash", "box")

    assert result["status"] == 3
    assert kernel.leftovers() == []


def test_killing_the_jupyter_client_ends_its_kernels(kernel):
    identity = kernel.identity
    client = subprocess.Popen(identity.command([VENV_PYTHON, str(DRIVER), "hold", "box"]),
                              env=identity.environment(kernel.env), cwd=identity.workdir,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        launcher = json.loads(client.stdout.readline())["launcher"]
        assert os.path.exists(f"/proc/{launcher}")
    finally:
        _kill_driver(client)
    kernel.launchers.append(launcher)

    assert [item for item in kernel.leftovers() if not item.startswith("/tmp/")] == []
    # A launcher killed outright cannot remove its empty session directory: the user's
    # next container start does.
    kernel.drive("ask", "box", "print(1)")
    assert kernel.leftovers() == []


def _kill_driver(client: subprocess.Popen) -> None:
    """SIGKILL the Python client itself (under runuser, its only child)."""
    target = client.pid
    with open(f"/proc/{client.pid}/task/{client.pid}/children") as handle:
        children = handle.read().split()
    if b"runuser" in open(f"/proc/{client.pid}/cmdline", "rb").read() and children:
        target = int(children[0])
    os.kill(target, signal.SIGKILL)
    client.communicate(timeout=30)
