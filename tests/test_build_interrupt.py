"""An interrupted build (SIGINT, as Ctrl-C sends, or SIGTERM) leaves nothing behind: no
file under the target name, no temporary file or directory, no process, no mount."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from build_support import BUSYBOX_HEADER, write_definition
from conftest import JUPYTAINER

SLEEPER = "31337"
SCRIPTS = {
    "setup": ("Bootstrap: scratch\n%setup\n    sleep " + SLEEPER + "\n",
              "Running setup scriptlet"),
    "post": (BUSYBOX_HEADER + "%post\n    sleep " + SLEEPER + "\n", "Running post scriptlet"),
}


def _builder_pid(target: Path) -> int:
    """The jupytainer process building target (below runuser for the unprivileged user)."""
    for _ in range(300):
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    argv = handle.read().split(b"\0")
            except OSError:
                continue
            if str(JUPYTAINER).encode() in argv[:2] and str(target).encode() in argv:
                return int(entry)
        time.sleep(0.1)
    raise AssertionError("the build process did not start")


def _sleepers() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if handle.read().split(b"\0")[:2] == [b"sleep", SLEEPER.encode()]:
                    found.append(int(entry))
        except OSError:
            continue
    return found


def _wait_for_line(stream, text: str) -> None:
    for line in stream:
        if text in line:
            return
    raise AssertionError(f"the build never printed {text!r}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("section", SCRIPTS)
def test_interrupted_build_leaves_nothing(identity, section, signum):
    text, marker = SCRIPTS[section]
    definition = write_definition(identity, text)
    scratch = identity.workdir / "tmp"
    scratch.mkdir()
    identity.make_owned(scratch)
    target = identity.workdir / "image.sif"
    started = subprocess.Popen(
        identity.command([str(JUPYTAINER), "build", str(target), str(definition)]),
        env=identity.environment({"JUPYTAINER_TMPDIR": str(scratch)}), cwd=identity.workdir,
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        _wait_for_line(started.stderr, marker)
        time.sleep(0.5)
        os.kill(_builder_pid(target), signum)
        started.wait(timeout=60)
    finally:
        if started.poll() is None:
            started.kill()

    assert started.returncode != 0
    assert not target.exists()
    assert os.listdir(scratch) == []
    assert not [name for name in os.listdir(identity.workdir) if name.startswith(".image")]
    for _ in range(50):
        if not _sleepers():
            break
        time.sleep(0.1)
    assert _sleepers() == []
    with open("/proc/self/mountinfo") as mounts:
        assert str(identity.workdir) not in mounts.read()
