"""The per-user cache: where extracted images (and other content keyed by digest) live.

The root follows Apptainer: `$APPTAINER_CACHEDIR/cache`, else `~/.apptainer/cache`;
`JUPYTAINER_CACHEDIR` takes precedence over both so that jupytainer can be pointed
elsewhere without touching Apptainer's cache. Entries written here by jupytainer live in
their own subdirectories, which Apptainer's `cache clean` leaves alone.
"""

import os
# collections.abc's own module, which os has loaded already (collections costs a launch ~1 ms).
from _collections_abc import Mapping


def cache_root(environ: Mapping[str, str] | None = None) -> str:
    """The cache directory for this user (not created)."""
    environ = os.environ if environ is None else environ
    for name in ("JUPYTAINER_CACHEDIR", "APPTAINER_CACHEDIR", "SINGULARITY_CACHEDIR"):
        if environ.get(name):
            return os.path.join(environ[name], "cache")
    home = environ.get("APPTAINER_CONFIGDIR") or os.path.join(_home(environ), ".apptainer")
    return os.path.join(home, "cache")


def cache_dir(kind: str, environ: Mapping[str, str] | None = None) -> str:
    """A subdirectory of the cache for one kind of entry, created private to the user."""
    path = os.path.join(cache_root(environ), kind)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _home(environ: Mapping[str, str]) -> str:
    import pwd

    return environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir
