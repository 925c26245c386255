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
        self.launchers: list[int] = []
        # Other programs on the machine may have left mounts of their own.
        self._old_mounts = set(_mounts())

    def install(self, image: Path | str, name: str = "box", *flags: str):
        """`jupytainer kernel install` as the identity; the completed process."""
        return self.identity.jupytainer("kernel", "install", str(image), "--name", name,
                                        "--prefix", str(self.prefix), *flags, env=self.env)

    def drive(self, command: str, *args: str, timeout: float = 600) -> dict:
        """Run the driver as the identity; its JSON answer (the test fails on a crash)."""
        result = self.identity.run([VENV_PYTHON, str(DRIVER), command, *args],
                                   env=self.env, timeout=timeout)
        assert result.returncode == 0, result.stderr[-3000:]
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        self.launchers += answer.get("launchers", [])
        return answer


    def leftovers(self, seconds: float = 10) -> list[str]:
        """Orphaned launchers, kernels and mounters of container kernels, new mounts of
        sessions, and session directories of this setup's launchers, still there after up
        to seconds (a killed container's mounts go with its last process). Other programs'
        kernels may run meanwhile: a running kernel has a live parent, a leaked one not."""
        deadline = time.monotonic() + seconds
        while (found := self._leftovers()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    def _leftovers(self) -> list[str]:
        mounts = [mount for mount in _mounts() if mount not in self._old_mounts]
        return _orphans() + mounts + _session_dirs(self.launchers)


def _orphans() -> list[str]:
    """Kernel launchers (and the containers' inits, their forks), kernels reading their
    connection file from an inherited descriptor, and FUSE daemons, whose parent has gone."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as handle:
                parent = handle.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        kernel = "/proc/self/fd/" in command and (
            "jupytainer.runtime.launch" in command or "ipykernel_launcher" in command)
        if parent == "1" and (kernel or "squashfuse" in command):
            found.append(f"process {pid}: {command[:200]}")
    return found


def _mounts() -> list[str]:
    pattern = re.compile(r"squashfuse|jupytainer-session-")
    with open("/proc/self/mountinfo") as handle:
        return [f"mount: {line.strip()}" for line in handle if pattern.search(line)]


def _session_dirs(launchers: list[int]) -> list[str]:
    found = []
    for base in {"/tmp", os.environ.get("XDG_RUNTIME_DIR") or "/tmp"}:
        for name in os.listdir(base):
            match = re.fullmatch(r"jupytainer-session-(\d+)-\d+", name)
            if match and int(match.group(1)) in launchers:
                found.append(f"{base}/{name}")
    return found
