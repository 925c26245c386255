"""When `%%def` may reuse the image it built before: a key over everything that decides the
image, kept in a sidecar file beside it.

The key is the SHA-256 of the definition's text, the build flags, and the contents of every
host file its `%files` and `%appfiles` sections copy. The sidecar `NAME.sif.build.json`
holds the key with the image's size and modification time, so that an image replaced by
some other build is not mistaken for ours.
"""

import argparse
import glob
import hashlib
import json
import os
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError

SIDECAR_SUFFIX = ".build.json"


def build_key(text: str, flags: list[str], directory: str) -> str:
    """The key of building text with flags, %files paths being relative to directory."""
    digest = hashlib.sha256()
    digest.update(text.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(json.dumps(flags).encode() + b"\0")
    for pattern in _host_sources(text, flags):
        _hash_source(digest, pattern, directory)
    return digest.hexdigest()


def is_current(image: Path, key: str) -> bool:
    """Whether image exists and was built by us with this key (and not touched since)."""
    try:
        record = json.loads(sidecar(image).read_text())
        stat = image.stat()
    except (OSError, ValueError):
        return False
    return record == _record(key, stat)


def remember(image: Path, key: str) -> None:
    """Record that image was just built with key."""
    sidecar(image).write_text(json.dumps(_record(key, image.stat())) + "\n")


def forget(image: Path) -> None:
    """Drop the record before a build, so that a failed build is never reused."""
    sidecar(image).unlink(missing_ok=True)


def sidecar(image: Path) -> Path:
    return image.with_name(image.name + SIDECAR_SUFFIX)


def _record(key: str, stat: os.stat_result) -> dict:
    return {"key": key, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _host_sources(text: str, flags: list[str]) -> list[str]:
    """The %files/%appfiles source patterns that come from the host, templated as the build
    will template them; none when the definition does not parse (the build says why)."""
    from jupytainer.runtime.deffile import parse_definition, parse_build_args, render_definition

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--build-arg", action="append", default=[])
    parser.add_argument("--build-arg-file", action="append", default=[])
    known, _ = parser.parse_known_args(flags)
    quiet, log.level = log.level, log.QUIET
    try:
        rendered = render_definition(text, parse_build_args(known.build_arg),
                                     known.build_arg_file)
        definition = parse_definition(rendered)
    except JupytainerError:
        return []
    finally:
        log.level = quiet
    sources = []
    for stage in definition.stages:
        for group in stage.files:
            if group.source_stage is None:
                sources += [source for source, _ in group.entries]
        for app in stage.apps.values():
            sources += [source for source, _ in app.files()]
    return sources


def _hash_source(digest, pattern: str, directory: str) -> None:
    """Add the names and contents of everything pattern matches (recursively for folders)."""
    digest.update(pattern.encode() + b"\0")
    matches = sorted(glob.glob(pattern, root_dir=directory, recursive=True))
    for match in matches:
        path = Path(directory, match)
        files = sorted(p for p in path.rglob("*") if not p.is_dir()) if path.is_dir() else [path]
        for file in files:
            digest.update(os.fsencode(str(file)) + b"\0")
            digest.update(_file_hash(file))


def _file_hash(file: Path) -> bytes:
    try:
        with open(file, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").digest()
    except OSError as failure:
        return f"unreadable: {failure.strerror}".encode()
