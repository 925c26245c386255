"""Fixtures of the launcher's tests: the images they run, and the check that a container
leaves nothing behind (no mount, no process, no session directory)."""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from images import busybox_rootfs, sif_of, squashfs_of


class TestImages:
    """Paths of the images built once per test session, readable by every identity."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.sandbox = busybox_rootfs(base / "busybox-sandbox")
        self.sif = sif_of(self.sandbox, base / "busybox.sif")
        self.arm64_sif = sif_of(self.sandbox, base / "busybox-arm64.sif", arch="arm64")
        self.squashfs = squashfs_of(self.sandbox, base / "busybox.squashfs")
        self.not_sif = base / "notes.txt"
        self.not_sif.write_text("this is not a container image\n")
        self.no_partition_sif = _sif_without_partition(base / "no-partition.sif")
        self.device_sif = _sif_with_a_device_node(base)
        os.chmod(base, 0o755)

    def kind(self, name: str) -> Path:
        """The busybox image as a 'sandbox' or a 'sif'."""
        return {"sandbox": self.sandbox, "sif": self.sif}[name]


def _sif_without_partition(path: Path) -> Path:
    from jupytainer.runtime import sif

    with sif.create(path) as image:
        image.add_object(sif.ObjectInput(sif.DataType.GENERIC_JSON, data=b"{}"))
    return path


def _sif_with_a_device_node(base: Path) -> Path:
    """The busybox image with a character device in it, as images made by root have."""
    rootfs = base / "with-device"
    shutil.copytree(base / "busybox-sandbox", rootfs, symlinks=True)
    os.mknod(rootfs / "dev" / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    image = sif_of(rootfs, base / "with-device.sif")
    shutil.rmtree(rootfs)
    return image


@pytest.fixture(scope="session")
def images():
    base = Path(tempfile.mkdtemp(prefix="jupytainer-launch-images-", dir="/tmp"))
    try:
        yield TestImages(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _session_dirs() -> set[str]:
    found = set()
    for base in ("/tmp", os.environ.get("XDG_RUNTIME_DIR", "/tmp")):
        found |= {os.path.join(base, name) for name in os.listdir(base)
                  if name.startswith("jupytainer-session-")}
    return found


def _our_mounts() -> list[str]:
    pattern = re.compile(r"jupytainer-session-|jupytainer-launch-|sif-images")
    with open("/proc/self/mountinfo") as handle:
        return [line for line in handle if pattern.search(line)]


def _our_processes() -> list[str]:
    """Mounters and launchers of the test images still running (other programs on the
    machine may run containers of their own meanwhile)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "jupytainer-launch-images-" in command or (
                "squashfuse" in command and "sif-images" in command):
            found.append(f"{pid}: {command}")
    return found


def _our_loop_devices() -> list[str]:
    listing = subprocess.run(["losetup", "--list", "--noheadings", "-O", "NAME,BACK-FILE"],
                             capture_output=True, text=True, check=False).stdout
    return [line for line in listing.splitlines()
            if "jupytainer-launch-" in line or "sif-images" in line]


@pytest.fixture
def leaves_nothing_behind():
    """After each test: no mount, loop device, process or session directory of ours."""
    sessions_before = _session_dirs()
    yield
    for _ in range(50):  # a killed container's mounts go with its last process
        leftovers = _our_mounts() + _our_processes() + _our_loop_devices()
        if not leftovers:
            break
        time.sleep(0.1)
    assert leftovers == []
    assert {path for path in _session_dirs() - sessions_before if not _alive(path)} == set()


def _alive(session_dir: str) -> bool:
    """Whether the launcher that made a session directory still runs (other programs on
    the machine may be running containers while the tests run)."""
    pid = session_dir.rsplit("-", 2)[1]
    return os.path.exists(f"/proc/{pid}")


def run_background(identity, *args: str, env: dict[str, str] | None = None):
    """Start `jupytainer ARGS` as identity without waiting; stdout is a pipe."""
    from conftest import JUPYTAINER

    return subprocess.Popen(identity.command([str(JUPYTAINER), *args]),
                            env=identity.environment(env), cwd=identity.workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def launcher_pid(process: subprocess.Popen) -> int:
    """The launcher's own pid: the process itself, or the child runuser started."""
    for _ in range(100):
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    command = handle.read()
            except (OSError, ValueError, IndexError):
                continue
            if parent == process.pid and b"jupytainer" in command:
                return int(pid)
        with open(f"/proc/{process.pid}/cmdline", "rb") as handle:
            if b"runuser" not in handle.read():
                return process.pid
        time.sleep(0.05)
    raise AssertionError("the launcher process did not start")
