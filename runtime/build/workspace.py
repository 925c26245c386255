"""The temporary directories of one build, and the promise that none outlives it.

Every stage's root filesystem, the squashfs file and the SIF being written live in
directories the workspace made; leaving the `with` block removes them all, whether the build
succeeded, failed or was interrupted (SIGINT, or SIGTERM which is turned into the same
KeyboardInterrupt so that one clean-up path serves both).
"""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from jupytainer.runtime import log
from jupytainer.runtime.build import userns

TMPDIR_VARIABLES = ("JUPYTAINER_TMPDIR", "APPTAINER_TMPDIR", "SINGULARITY_TMPDIR")


def temporary_root() -> str | None:
    """Where build bundles go: $APPTAINER_TMPDIR (or its aliases), else the system default."""
    for name in TMPDIR_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return None


class Workspace:
    """Temporary directories removed, with everything in them, when the build ends."""

    def __init__(self) -> None:
        self._paths: list[Path] = []
        self._previous_handler = None

    def __enter__(self) -> "Workspace":
        self._previous_handler = signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(self, kind: type | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        # A second signal during the clean-up must not leave half-removed trees behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            for path in reversed(self._paths):
                remove_tree(path)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, self._previous_handler or signal.SIG_DFL)

    def directory(self, purpose: str, near: Path | None = None) -> Path:
        """A new empty directory, in the build's temporary root or beside `near` (so that
        what is made in it can be renamed onto `near` without crossing filesystems)."""
        parent = str(near.parent) if near else temporary_root()
        prefix = f".{near.name}.jupytainer-" if near else f"jupytainer-build-{purpose}-"
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self._paths.append(path)
        return path

    def forget(self, path: Path) -> None:
        """Keep `path` after the build: it has been renamed into place."""
        self._paths = [known for known in self._paths if known != path]


def remove_tree(path: Path) -> None:
    """Remove a directory tree, including files an unprivileged build made as other IDs."""
    if not os.path.lexists(path):
        return
    if userns.is_root() or not path.is_dir() or path.is_symlink():
        _remove_as_caller(path)
        return
    # Files owned by subordinate IDs can only be removed from inside the namespace.
    try:
        subprocess.run(userns.as_root(["rm", "-rf", "--one-file-system", str(path)]),
                       stdin=subprocess.DEVNULL, check=False)
    except OSError:
        pass  # no unshare: what the caller owns can still go
    if os.path.lexists(path):
        _remove_as_caller(path)


def _remove_as_caller(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=_make_writable_and_retry)
    else:
        path.unlink(missing_ok=True)
    if os.path.lexists(path):
        log.warning(f"could not remove the temporary {path}: remove it by hand")


def _make_writable_and_retry(function, path: str, _info) -> None:
    try:
        os.chmod(os.path.dirname(path), 0o700)
        function(path)
    except OSError:
        pass


def _interrupt(signum: int, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
