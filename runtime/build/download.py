"""Fetching one file named by a URL (http, https or file) for a bootstrap agent."""

import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError


def fetch(url: str, destination: Path, what: str) -> None:
    """Copy the file at url to destination; `what` names the header keyword in errors."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https", "file"):
        raise JupytainerError(f"{what} {url} is not an http://, https:// or file:// URL")
    log.info(f"Downloading {url}")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, \
                open(destination, "wb") as output:
            shutil.copyfileobj(response, output)
    except (urllib.error.URLError, OSError, ValueError) as failure:
        destination.unlink(missing_ok=True)
        reason = getattr(failure, "reason", None) or getattr(failure, "strerror", None) \
            or failure
        raise JupytainerError(f"cannot download {what} {url}: {reason}") from None
