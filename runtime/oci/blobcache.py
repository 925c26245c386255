"""Where downloaded blobs are kept, by digest, so that a second pull of the same layer costs
nothing. The layout is Apptainer's: `<cache root>/blob/blobs/sha256/<hex>`."""

import os
import shutil
import tempfile
from pathlib import Path

from jupytainer.runtime import cache
from jupytainer.runtime.oci.digests import check_digest

_DISABLE_VARIABLES = ("JUPYTAINER_DISABLE_CACHE", "APPTAINER_DISABLE_CACHE")


def cache_root() -> Path:
    """The cache's root directory, chosen as for every other cache entry of jupytainer."""
    return Path(cache.cache_root())


def cache_disabled() -> bool:
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes")
               for name in _DISABLE_VARIABLES)


class BlobCache:
    """Blobs by digest under `root`; each is written to a temporary name and renamed only
    after its digest was checked, so a blob in the cache is always complete."""

    def __init__(self, root: Path | None = None):
        if root is None and cache_disabled():
            self._scratch = tempfile.TemporaryDirectory(prefix="jupytainer-blobs-")
            root = Path(self._scratch.name)
        self.root = root if root is not None else cache_root()
        self.blobs = self.root / "blob" / "blobs"
        self.partials = self.root / "blob" / "partial"

    def path(self, digest: str) -> Path:
        algorithm, _, value = check_digest(digest).partition(":")
        return self.blobs / algorithm / value

    def get(self, digest: str) -> Path | None:
        path = self.path(digest)
        return path if path.is_file() else None

    def partial(self, digest: str) -> Path:
        """The temporary file a download of `digest` goes to (kept across retries)."""
        self._make_dirs()
        return self.partials / check_digest(digest).replace(":", "-")

    def commit(self, partial: Path, digest: str) -> Path:
        """Move a verified download into place."""
        final = self.path(digest)
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.replace(partial, final)
        return final

    def _make_dirs(self) -> None:
        for directory in (self.root, self.root / "blob", self.blobs, self.partials):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        layout = self.root / "blob" / "oci-layout"
        if not layout.exists():
            layout.write_text('{"imageLayoutVersion": "1.0.0"}')

    def discard_partials(self) -> None:
        shutil.rmtree(self.partials, ignore_errors=True)
