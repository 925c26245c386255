"""Small images the runtime tests build themselves: a busybox root file system with an
Apptainer-style /.singularity.d, as a sandbox directory or packed into a SIF (mksquashfs
and siftool, with or without an inspect-metadata.json object)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
BUSYBOX_TOOLS = ("sh", "env", "cat", "echo", "true", "printf", "ls")
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
    """A runnable root: static busybox as /bin/sh and a few tools, plus the metadata."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, bin_dir / "busybox")
    for tool in BUSYBOX_TOOLS:
        (bin_dir / tool).symlink_to("busybox")
    for directory in ("dev", "proc", "sys", "tmp", "root", "home", "etc", "var/tmp"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    for name in ("hosts", "resolv.conf", "passwd", "group"):
        (root / "etc" / name).touch()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    metadata_root(root, **metadata)
    os.chmod(root, 0o755)
    return root


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755 if text.startswith("#!") else 0o644)


def sif_from_root(root: Path, image: Path, *, inspect_metadata: dict | None = None,
                  deffile: str | None = None) -> Path:
    """image: a SIF whose primary partition is root as squashfs, plus the optional objects."""
    squashfs = image.with_suffix(".squashfs")
    subprocess.run(["mksquashfs", str(root), str(squashfs), "-noappend", "-quiet",
                    "-no-progress", "-all-root", "-comp", "gzip"], check=True,
                   capture_output=True)
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
