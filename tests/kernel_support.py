"""Helpers of the kernel tests: kernelspecs installed into a test's own directory, the
Jupyter client driver run as the test's identity, and the check that kernels leave no
process, mount or session directory behind."""

import json
import os
import re
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
DRIVER = TESTS / "kernel_driver.py"
VENV_PYTHON = "/opt/jupytainer/venv/bin/python"


class KernelSetup:
    """Kernelspecs under identity.workdir/jupyter, seen through JUPYTER_PATH."""

    def __init__(self, identity) -> None:
        self.identity = identity
        self.prefix = identity.workdir / "prefix"
        self.env = {"JUPYTER_PATH": str(self.prefix / "share" / "jupyter")}
        # Other programs on the machine may have left things of their own.
        self._old = set(self._leftovers())

    def install(self, image: Path | str, name: str = "box", *flags: str):
        """`jupytainer kernel install` as the identity; the completed process."""
        return self.identity.jupytainer("kernel", "install", str(image), "--name", name,
                                        "--prefix", str(self.prefix), *flags, env=self.env)

    def drive(self, command: str, *args: str, timeout: float = 600) -> dict:
        """Run the driver as the identity; its JSON answer (the test fails on a crash)."""
        result = self.identity.run([VENV_PYTHON, str(DRIVER), command, *args],
                                   env=self.env, timeout=timeout)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])


    def leftovers(self, seconds: float = 10) -> list[str]:
        """Launchers, kernels and mounters of container kernels, mounts of their sessions,
        and session directories made since this setup whose launcher has gone, still there
        after up to seconds (a killed container's mounts go with its last process)."""
        deadline = time.monotonic() + seconds
        while (found := self._leftovers()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    def _leftovers(self) -> list[str]:
        found = _processes() + _mounts() + _dead_sessions()
        return [item for item in found if item not in getattr(self, "_old", ())]


def _processes() -> list[str]:
    """Kernel launchers and kernels started with a connection file on stdin, and FUSE
    daemons orphaned by a container that ended without them."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as handle:
                parent = handle.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        kernel = "/proc/self/fd/0" in command and (
            "jupytainer.runtime.launch" in command or "ipykernel_launcher" in command)
        orphaned_fuse = "squashfuse" in command and parent == "1"
        if kernel or orphaned_fuse:
            found.append(f"process {pid}: {command[:200]}")
    return found


def _mounts() -> list[str]:
    pattern = re.compile(r"squashfuse|jupytainer-session-")
    with open("/proc/self/mountinfo") as handle:
        return [f"mount: {line.strip()}" for line in handle if pattern.search(line)]


def _dead_sessions() -> list[str]:
    found = []
    for base in {"/tmp", os.environ.get("XDG_RUNTIME_DIR") or "/tmp"}:
        for name in os.listdir(base):
            match = re.fullmatch(r"jupytainer-session-(\d+)-\d+", name)
            if match and not os.path.exists(f"/proc/{match.group(1)}"):
                found.append(f"{base}/{name}")
    return found
