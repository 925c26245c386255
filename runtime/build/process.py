"""Host commands the builder runs, with their output streamed to the user as it happens.

Each child gets its own session, so an interrupted build can end the child and everything it
started (debootstrap's chroots, mksquashfs' threads) before the workspace is removed.
"""

import os
import signal
import subprocess

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError

SYSTEM_TOOL_FOLDERS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def find_system_tools() -> None:
    """Let the build find chroot and debootstrap, which live in the sbin folders.

    Debian gives ordinary users a PATH without them, yet a build runs those tools as root
    would (in a user namespace when unprivileged), so it searches where root's PATH does.
    """
    folders = os.environ.get("PATH", "").split(os.pathsep)
    missing = [folder for folder in SYSTEM_TOOL_FOLDERS if folder not in folders]
    os.environ["PATH"] = os.pathsep.join([*filter(None, folders), *missing])


def run_streamed(argv: list[str], *, env: dict[str, str] | None = None,
                 cwd: str | None = None, quiet: bool = False) -> int:
    """Run argv, letting its output reach our stdout/stderr; returns its exit status.

    An interruption (KeyboardInterrupt, or the SIGTERM the workspace turns into one) kills
    the child's whole session and waits for it before passing the interruption on.
    """
    log.verbose(f"running {' '.join(argv)}")
    output = subprocess.DEVNULL if quiet else None
    try:
        child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=output,
                                 start_new_session=True)
    except FileNotFoundError as missing:
        raise JupytainerError(f"{argv[0]} is not installed: install it (see "
                              f"dev/apt-packages.txt) and build again") from missing
    try:
        return child.wait()
    except BaseException:
        _end_session(child)
        raise


def run_checked(argv: list[str], what: str, **kwargs) -> None:
    """run_streamed, turning a non-zero exit into a one-line error about `what`."""
    status = run_streamed(argv, **kwargs)
    if status != 0:
        raise JupytainerError(f"{what} failed (exit status {status}): see its output above")


def _end_session(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()
