"""Instances: containers that run detached, listed, joined and stopped by name.

State lives in the user's own directory, as Apptainer lays it out but under
`~/.jupytainer` (or $JUPYTAINER_CONFIGDIR), so that a real Apptainer's instances never mix
with ours: `instances/app/<host>/<user>/<name>/<name>.json` (directories 0700) and the
payload's output in `instances/logs/<host>/<user>/<name>.out` and `.err`, appended to.

An entry names two processes by pid and start time: the launcher (Apptainer's ppid),
which a stop signals, and the container's init (pid), whose namespaces a command joins.
An entry whose processes are gone (or whose pids now belong to others) is a ghost:
listing deletes it, and its name can be used again.
"""

# Limitation: Apptainer's --boot, --sharens, `instance list --user` and network setup
# (the IP column stays empty) are not implemented; liveness is told by pid and start time,
# not by Apptainer's process title "Apptainer instance: ...".

import fcntl
import fnmatch
import json
import os
import re
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch.options import ContainerOptions

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9._-]+$")
URI_PREFIX = "instance://"
DEFAULT_SIGNAL = signal.SIGINT
DEFAULT_TIMEOUT = 10.0
# How long a launcher may take to end after its init was killed.
LAUNCHER_GRACE = 5.0
# How often a stop looks whether the instance's processes are gone.
POLL_INTERVAL = 0.05


@dataclass
class Instance:
    """A running instance. pid is the container's init, ppid its launcher; *_start are
    their start times (in clock ticks since boot), which tell them from later processes
    that reuse the pids."""

    name: str
    image: str
    pid: int
    ppid: int
    pid_start: int
    ppid_start: int
    user: str
    action: str
    log_out: str
    log_err: str
    ip: str = ""

    def is_running(self) -> bool:
        """Whether both its processes still run (a zombie counts as ended)."""
        return (_started_at(self.pid) == self.pid_start
                and _started_at(self.ppid) == self.ppid_start)


def start_instance(image: str | os.PathLike, name: str, args: list[str] = (),
                   options: ContainerOptions | None = None, action: str = "start") -> Instance:
    """Start image's startscript (action "start") or runscript ("run") as instance name;
    returns once its payload runs. JupytainerError for a bad name, a name in use, or an
    image that cannot start."""
    from jupytainer.runtime.image import resolve_image
    from jupytainer.runtime.launch.detach import start_detached

    check_name(name)
    image_path = resolve_image(image).path
    options = (options or ContainerOptions()).replace(instance=name)
    log_out, log_err = _log_paths(name)
    with _reserved(name):
        launcher, init = start_detached(image_path, action, list(args), options,
                                        log_out, log_err)
        instance = Instance(name, image_path, init, launcher, _started_at(init),
                            _started_at(launcher), _user_name(), action, log_out, log_err)
        _write_entry(instance)
    return instance


def list_instances(pattern: str = "*") -> list[Instance]:
    """This user's running instances whose names match the glob pattern, by name; ghost
    entries found on the way are deleted."""
    found = []
    for name in _entry_names():
        if not fnmatch.fnmatchcase(name, pattern):
            continue
        instance = _live_entry(name)
        if instance is not None:
            found.append(instance)
    return found


def get_instance(name: str) -> Instance:
    """The running instance name; JupytainerError if there is none."""
    check_name(name)
    instance = _live_entry(name)
    if instance is None:
        raise JupytainerError(f"no instance named {name} is running: see "
                              "'jupytainer instance list'")
    return instance


def stop_instance(instance: Instance, number: int = DEFAULT_SIGNAL,
                  timeout: float = DEFAULT_TIMEOUT) -> None:
    """Send number to the instance's launcher (which passes it to init, and init to the
    payload's process group), wait up to timeout seconds for the instance to end, then
    kill it; remove its entry."""
    if number == signal.SIGKILL:
        _kill(instance)
    else:
        _signal(instance.ppid, number)
        if not _wait_until_ended(instance, timeout):
            _kill(instance)
    _wait_until_ended(instance, None)
    _remove_entry(instance.name)


def check_name(name: str) -> None:
    """JupytainerError unless name is a valid instance name (Apptainer's rule)."""
    if not NAME_PATTERN.match(name):
        raise JupytainerError(f"instance name {name!r} is not valid: use only letters, "
                              "digits, '.', '_' and '-'")


def _kill(instance: Instance) -> None:
    """SIGKILL the init, which ends every process of its PID namespace; the launcher then
    ends by itself, tidying up (it is killed too if it does not)."""
    if _started_at(instance.pid) == instance.pid_start:
        _signal(instance.pid, signal.SIGKILL)
    if not _wait_until_ended(instance, LAUNCHER_GRACE):
        _signal(instance.ppid, signal.SIGKILL)


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _wait_until_ended(instance: Instance, timeout: float | None) -> bool:
    deadline = None if timeout is None else time.monotonic() + timeout
    while _started_at(instance.pid) == instance.pid_start or (
            _started_at(instance.ppid) == instance.ppid_start):
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)
    return True


def _started_at(pid: int) -> int | None:
    """A live process's start time, None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


# --- the state directory ---------------------------------------------------------------

def config_dir() -> Path:
    """$JUPYTAINER_CONFIGDIR, else ~/.jupytainer of the user's account (not $HOME, which
    a caller may point anywhere)."""
    configured = os.environ.get("JUPYTAINER_CONFIGDIR")
    if configured:
        return Path(configured)
    import pwd

    try:
        home = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        home = os.environ.get("HOME", "/")
    return Path(home) / ".jupytainer"


def _user_name() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def _state_dir() -> Path:
    return config_dir() / "instances" / "app" / socket.gethostname() / _user_name()


def _entry_path(name: str) -> Path:
    return _state_dir() / name / f"{name}.json"


def _log_paths(name: str) -> tuple[str, str]:
    logs = config_dir() / "instances" / "logs" / socket.gethostname() / _user_name()
    _make_private_dirs(logs)
    return str(logs / f"{name}.out"), str(logs / f"{name}.err")


def _make_private_dirs(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as failure:
        raise JupytainerError(f"cannot create the instance directory {path}: "
                              f"{failure.strerror}: set JUPYTAINER_CONFIGDIR to a "
                              "directory you can write") from None


def _entry_names() -> list[str]:
    try:
        return sorted(os.listdir(_state_dir()))
    except FileNotFoundError:
        return []


def _live_entry(name: str) -> Instance | None:
    """The entry of name if its processes run; a ghost entry is deleted (under the lock,
    so that it never deletes the entry of an instance being started meanwhile)."""
    instance = _running_entry(name)
    if instance is not None or not (_state_dir() / name).is_dir():
        return instance
    with _locked():
        instance = _running_entry(name)
        if instance is not None:
            return instance
        if not _is_being_started(name):
            _remove_entry(name)
    return None


def _running_entry(name: str) -> Instance | None:
    instance = _read_entry(name)
    return instance if instance is not None and instance.is_running() else None


def _read_entry(name: str) -> Instance | None:
    path = _entry_path(name)
    try:
        if path.stat().st_uid != os.getuid():
            return None
        fields = json.loads(path.read_text())
        return Instance(**fields)
    except (OSError, ValueError, TypeError):
        return None


def _write_entry(instance: Instance) -> None:
    """Write the entry under a temporary name and rename it: readers never see half."""
    path = _entry_path(instance.name)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(instance), indent=2) + "\n")
    os.chmod(partial, 0o644)
    os.replace(partial, path)


def _remove_entry(name: str) -> None:
    directory = _state_dir() / name
    for path in (directory / f"{name}.json", directory / "starting"):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
    try:
        directory.rmdir()
    except OSError:
        pass


@contextmanager
def _locked() -> Iterator[None]:
    """The user's instance lock, held while a name is checked and taken."""
    state = _state_dir()
    _make_private_dirs(state)
    with open(state.parent / f".{state.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def _reserved(name: str) -> Iterator[None]:
    """Hold name while its instance starts: a 'starting' marker with this process's pid
    (a start that dies leaves a marker that others see is stale); the lock is not held
    during the start, so that instances of other names start at the same time."""
    with _locked():
        if _running_entry(name) or _is_being_started(name):
            raise JupytainerError(f"instance {name} already exists: stop it first, or "
                                  "choose another name")
        _remove_entry(name)
        (_state_dir() / name).mkdir(mode=0o700)
        (_state_dir() / name / "starting").write_text(f"{os.getpid()} "
                                                      f"{_started_at(os.getpid())}\n")
    try:
        yield
    except BaseException:
        _remove_entry(name)
        raise
    (_state_dir() / name / "starting").unlink()


def _is_being_started(name: str) -> bool:
    """Whether a live process is starting name now."""
    try:
        pid, start = (_state_dir() / name / "starting").read_text().split()
    except (OSError, ValueError):
        return False
    return str(_started_at(int(pid))) == start
