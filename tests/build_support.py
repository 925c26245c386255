"""Helpers for the builder's tests: write a definition, run `jupytainer build` as an
identity, and read what a built SIF holds (its objects, and files in its partition)."""

import subprocess
import textwrap
from pathlib import Path

from jupytainer.runtime import sif

BUSYBOX_HEADER = "Bootstrap: busybox\nMirrorURL: file:///bin/busybox\n"


def write_definition(identity, text: str, name: str = "image.def") -> Path:
    path = identity.workdir / name
    path.write_text(textwrap.dedent(text).lstrip())
    identity.make_owned(path)
    return path


def build(identity, target: str | Path, source: str | Path, *flags: str,
          env: dict[str, str] | None = None, timeout: float = 600
          ) -> subprocess.CompletedProcess:
    return identity.jupytainer("build", *flags, target, source, env=env, timeout=timeout)


def built(identity, text: str, *flags: str, target: str = "image.sif",
          env: dict[str, str] | None = None) -> Path:
    """Build text (a definition) into workdir/target and insist that it worked."""
    definition = write_definition(identity, text)
    result = build(identity, identity.workdir / target, definition, *flags, env=env)
    assert result.returncode == 0, result.stderr
    return identity.workdir / target


def objects(path: Path) -> list[tuple[int, str, bytes]]:
    """(data type, name, data) of each object, in order."""
    with sif.load(path) as image:
        return [(descriptor.data_type, descriptor.name, image.read_bytes(descriptor))
                for descriptor in image.objects]


def partition_file(path: Path, inner: str) -> str:
    """A file's text from the SIF's primary partition."""
    return partition_bytes(path, inner).decode()


def partition_bytes(path: Path, inner: str) -> bytes:
    """A file's bytes from the SIF's primary partition."""
    with sif.load(path) as image:
        offset = image.primary_partition().offset
    result = subprocess.run(["unsquashfs", "-o", str(offset), "-cat", str(path),
                             inner.lstrip("/")], capture_output=True, check=True)
    return result.stdout


def partition_listing(path: Path) -> str:
    """`unsquashfs -lls` of the SIF's partition: modes, owners and names of every entry."""
    with sif.load(path) as image:
        offset = image.primary_partition().offset
    return subprocess.run(["unsquashfs", "-o", str(offset), "-lls", str(path)],
                          capture_output=True, text=True, check=True).stdout
