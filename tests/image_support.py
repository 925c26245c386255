"""Images with chosen metadata for the environment and inspect tests: the busybox root of
images.py with the env scripts, files and labels a test names, as a sandbox directory or
packed by siftool into a SIF with or without definition and inspect-metadata.json objects."""

import json
import subprocess
from pathlib import Path

from images import busybox_rootfs, squashfs_of

SIFTOOL_AMD64 = "2"


def metadata_root(root: Path, *, env: dict[str, str] | None = None,
                  files: dict[str, str] | None = None, labels: dict | None = None) -> Path:
    """root with /.singularity.d: env scripts (name -> text), other files (path -> text,
    executable when the text starts with #!) and labels.json."""
    (root / ".singularity.d" / "env").mkdir(parents=True, exist_ok=True)
    (root / ".singularity.d" / "libs").mkdir(exist_ok=True)
    for name, text in (env or {}).items():
        write(root / ".singularity.d" / "env" / name, text)
    for path, text in (files or {}).items():
        write(root / path.lstrip("/"), text)
    if labels is not None:
        write(root / ".singularity.d" / "labels.json", json.dumps(labels, indent="\t"))
    return root


def busybox_root(root: Path, **metadata) -> Path:
    """A runnable busybox root whose metadata is then set as metadata_root sets it."""
    return metadata_root(busybox_rootfs(root), **metadata)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755 if text.startswith("#!") else 0o644)


def sif_from_root(root: Path, image: Path, *, inspect_metadata: dict | None = None,
                  deffile: str | None = None) -> Path:
    """image: a SIF whose primary partition is root as squashfs, plus the optional objects."""
    squashfs = squashfs_of(root, image.with_suffix(".squashfs"))
    subprocess.run(["siftool", "new", str(image)], check=True, capture_output=True)
    if deffile is not None:
        _add(image, deffile.encode(), "1", [])
    if inspect_metadata is not None:
        _add(image, json.dumps(inspect_metadata).encode(), "6",
             ["--filename", "inspect-metadata.json"])
    subprocess.run(["siftool", "add", "--datatype", "4", "--parttype", "2", "--partfs", "1",
                    "--partarch", SIFTOOL_AMD64, "--groupid", "1", str(image), str(squashfs)],
                   check=True, capture_output=True)
    squashfs.unlink()
    image.chmod(0o644)
    return image


def _add(image: Path, data: bytes, datatype: str, extra: list[str]) -> None:
    source = image.with_suffix(f".object{datatype}")
    source.write_bytes(data)
    subprocess.run(["siftool", "add", "--datatype", datatype, "--groupid", "1", *extra,
                    str(image), str(source)], check=True, capture_output=True)
    source.unlink()
