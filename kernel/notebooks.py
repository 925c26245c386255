"""Notebook files as plain JSON: read with a one-line error for anything that is not a
notebook, written under a temporary name and renamed, so a failure never leaves half a
notebook under its final name."""

import json
import os
import tempfile

from jupytainer.runtime.errors import JupytainerError


def read_notebook(path: str | os.PathLike) -> dict:
    """The notebook at path, as its JSON document."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise JupytainerError(f"notebook {path} does not exist: give the path of an "
                              ".ipynb file") from None
    except IsADirectoryError:
        raise JupytainerError(f"{path} is a directory, not a notebook: give the path of an "
                              ".ipynb file") from None
    except (OSError, UnicodeDecodeError, ValueError) as failure:
        reason = getattr(failure, "strerror", None) or "not valid JSON"
        raise JupytainerError(f"cannot read notebook {path}: {reason}") from None

    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise JupytainerError(f"{path} is not a Jupyter notebook: it has no list of cells")
    document.setdefault("metadata", {})
    return document


def write_notebook(path: str | os.PathLike, document: dict) -> None:
    """Write document to path, replacing it only once it is complete."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".jupytainer-", suffix=".ipynb",
                                                 dir=directory)
    except OSError as failure:
        raise JupytainerError(f"cannot write {path}: {failure.strerror}: choose a directory "
                              "you can write") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        _keep_mode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _keep_mode(path: str | os.PathLike, temporary: str) -> None:
    """A rewritten notebook keeps its permissions; a new one gets the usual 0644."""
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(temporary, mode)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
