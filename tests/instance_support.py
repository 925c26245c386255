"""Helpers of the instance tests: an image with a startscript, each test's own state
directory, and the checks that an instance's processes are gone."""

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from images import sif_of

# With arguments the startscript runs them; without, it leaves a file in the instance's
# /tmp and waits (a service).
STARTSCRIPT = ('#!/bin/sh\n\nif [ $# -gt 0 ]; then exec "$@"; fi\n'
               'echo "started $APPTAINER_INSTANCE"\n'
               'echo from-startscript > /tmp/startscript-was-here\n'
               'exec sleep 100000\n')


@pytest.fixture(scope="session")
def service_image(images) -> Path:
    """The busybox SIF with the startscript above."""
    rootfs = images.base / "service-rootfs"
    shutil.copytree(images.sandbox, rootfs, symlinks=True)
    script = rootfs / ".singularity.d" / "startscript"
    script.write_text(STARTSCRIPT)
    script.chmod(0o755)
    image = sif_of(rootfs, images.base / "service.sif")
    shutil.rmtree(rootfs)
    return image


def config_env(identity) -> dict[str, str]:
    """A state directory of the test's own, in the identity's workdir."""
    return {"JUPYTAINER_CONFIGDIR": str(identity.workdir / "config")}


def entry(identity, name: str) -> dict:
    """The state file of instance name, as written."""
    found = list((identity.workdir / "config").glob(f"instances/app/*/*/{name}/{name}.json"))
    assert len(found) == 1, found
    return json.loads(found[0].read_text())


class PidNamespace:
    """A PID namespace, held open so that its inode number stays its own: the kernel gives
    a freed namespace's number to the next one made, perhaps another test's container, whose
    processes would then look like leftovers of this one."""

    def __init__(self, pid: int) -> None:
        self.fd = os.open(f"/proc/{pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        self.inode = os.fstat(self.fd).st_ino

    def __del__(self) -> None:
        os.close(self.fd)


def namespace_of(pid: int) -> PidNamespace:
    return PidNamespace(pid)


def processes_in(namespace: PidNamespace) -> list[int]:
    """Live processes of the PID namespace."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}/ns/pid").st_ino == namespace.inode and not _zombie(pid):
                found.append(int(pid))
        except OSError:
            continue
    return found


def _zombie(pid: str) -> bool:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")


def alive(pid: int) -> bool:
    try:
        return not _zombie(str(pid))
    except OSError:
        return False


def wait_for(condition, what: str, limit: float = 60) -> None:
    """Wait until condition() holds (a state reached, not a duration measured)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)
