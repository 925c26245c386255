"""Fixtures shared by the whole suite: the installed command, the reference material in
../shared, and the two identities (root and an unprivileged user) runtime tests run as."""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
JUPYTAINER = Path(sys.executable).parent / "jupytainer"
TEST_USER = "jupytainer-test"

# Session fixtures of real registries (docker-registry on 127.0.0.1) for the OCI tests;
# the launcher's images and its check that a container leaves nothing behind; the
# instances' image with a startscript.
pytest_plugins = ["oci_registry", "launch_fixtures", "instance_support"]


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """../shared/reference, or a skip with the reason when this checkout has none beside it."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"no reference material at {SHARED_REFERENCE} (../shared is absent)")
    return SHARED_REFERENCE


def ensure_test_user() -> pwd.struct_passwd:
    """Create the unprivileged test user as a normal distribution would set one up:
    a home, subordinate ID ranges, and a /dev/fuse that users may open."""
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", TEST_USER],
                       check=True)
        entry = pwd.getpwnam(TEST_USER)
    for table in ("/etc/subuid", "/etc/subgid"):
        lines = Path(table).read_text().splitlines() if Path(table).exists() else []
        if not any(line.startswith(f"{TEST_USER}:") for line in lines):
            with open(table, "a") as handle:
                handle.write(f"{TEST_USER}:200000:65536\n")
    if Path("/dev/fuse").exists():
        os.chmod("/dev/fuse", 0o666)
    return entry


@dataclass
class Identity:
    """Who a test runs jupytainer as: 'root' or the unprivileged test user."""

    name: str
    uid: int
    gid: int
    home: Path
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.uid == 0

    def command(self, argv: list[str]) -> list[str]:
        """argv as this identity would run it."""
        if self.is_root:
            return argv
        return ["/usr/sbin/runuser", "-u", self.name, "--", *argv]

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("APPTAINER", "SINGULARITY", "JUPYTAINER"))}
        env.update(HOME=str(self.home), USER=self.name, LOGNAME=self.name)
        env.update(self.extra_env)
        env.update(extra or {})
        return env

    def run(self, argv: list[str], *, env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Run any command as this identity, capturing text output."""
        return subprocess.run(self.command([str(arg) for arg in argv]),
                              env=self.environment(env), cwd=cwd or self.workdir,
                              capture_output=True, text=True, timeout=timeout, input=input)

    def jupytainer(self, *args: str | Path, **kwargs) -> subprocess.CompletedProcess:
        """Run the installed `jupytainer` command as this identity."""
        return self.run([str(JUPYTAINER), *[str(arg) for arg in args]], **kwargs)

    def make_owned(self, path: Path) -> Path:
        os.chown(path, self.uid, self.gid)
        return path


@pytest.fixture(params=["root", "user"])
def identity(request) -> Iterator[Identity]:
    """Each test that takes this runs twice: as root and as the unprivileged test user.
    workdir is a fresh directory the identity owns and both can read."""
    if os.geteuid() != 0:
        pytest.skip("the suite must run as root to test both privilege modes")
    if request.param == "root":
        entry = pwd.getpwuid(0)
    else:
        entry = ensure_test_user()
    workdir = Path(tempfile.mkdtemp(prefix=f"jupytainer-{request.param}-", dir="/tmp"))
    os.chmod(workdir, 0o755)
    os.chown(workdir, entry.pw_uid, entry.pw_gid)
    yield Identity(request.param if request.param == "root" else TEST_USER,
                   entry.pw_uid, entry.pw_gid, Path(entry.pw_dir), workdir)
    shutil.rmtree(workdir, ignore_errors=True)
