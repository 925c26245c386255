"""Bundles: one .tar.zst file that holds a pinned notebook, the image it is pinned to (or
only that image's definition file), data files, a MANIFEST with the SHA-256 of every file
and a README telling a reviewer how to reproduce the notebook.

The MANIFEST uses sha256sum's format, so `sha256sum -c MANIFEST` checks an unpacked bundle
without jupytainer. Every member lives under one directory named after the notebook.
"""

import hashlib
import io
import os
import tarfile
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from jupytainer import __version__
from jupytainer.kernel.digest import image_digest
from jupytainer.kernel.notebooks import read_notebook
from jupytainer.kernel.pinning import (BUNDLE_IMAGE_DIR, bundled_image_name, notebook_pin,
                                        pinned_image_file)
from jupytainer.runtime.errors import JupytainerError

MANIFEST = "MANIFEST"
README = "README.md"
SUFFIX = ".tar.zst"
ZSTD_LEVEL = 3
_BLOCK = 1 << 20


@dataclass
class Bundle:
    """What goes into a bundle: member names (relative to its directory) and sources."""

    name: str
    notebook: str
    files: dict[str, Path] = field(default_factory=dict)
    texts: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Unpacked:
    """A verified, unpacked bundle: its directory, its notebook and its image (if any)."""

    directory: Path
    notebook: Path
    image: Path | None
    digests: dict[str, str]


def publish(notebook: str, output: str | None = None, include: list[str] | tuple = (),
            with_image: bool = True, image: str | None = None) -> Path:
    """Write the bundle of a pinned notebook; its path."""
    document = read_notebook(notebook)
    pin = notebook_pin(document, os.path.basename(notebook))
    bundle = Bundle(Path(notebook).stem, os.path.basename(notebook))
    bundle.files[bundle.notebook] = Path(notebook)
    image_member = _add_image(bundle, pin, image or pinned_image_file(pin, notebook), with_image)
    for member, source in _included(Path(notebook).parent, include):
        bundle.files.setdefault(member, source)

    target = Path(output or f"{bundle.name}{SUFFIX}")
    digests = _write(bundle, target, pin, image_member)
    if image_member and digests[image_member] != pin["image_digest"].removeprefix("sha256:"):
        target.unlink()
        raise JupytainerError(f"{bundle.files[image_member]} changed while it was being "
                              "published: publish again")
    return target


def unpack(bundle: str | os.PathLike, destination: str | os.PathLike) -> Unpacked:
    """Unpack bundle into the empty directory destination and verify every file against
    the MANIFEST; refuse a bundle whose files do not match, naming the file."""
    root = Path(destination)
    _extract(Path(bundle), root)
    tops = list(root.iterdir())
    if len(tops) != 1 or not tops[0].is_dir():
        raise JupytainerError(f"{bundle} is not a jupytainer bundle: it must hold one "
                              "directory; make it with 'jupytainer publish'")
    directory = tops[0]
    digests = verify_directory(directory, str(bundle))
    notebooks = [name for name in digests if "/" not in name and name.endswith(".ipynb")]
    if len(notebooks) != 1:
        raise JupytainerError(f"{bundle} holds {len(notebooks)} notebooks at its top, not "
                              "one: make it with 'jupytainer publish'")
    images = [name for name in digests if name.startswith(f"{BUNDLE_IMAGE_DIR}/")
              and name.endswith(".sif")]
    image = directory / images[0] if images else None
    return Unpacked(directory, directory / notebooks[0], image, digests)


def verify_directory(directory: Path, origin: str) -> dict[str, str]:
    """Check every file under directory against its MANIFEST; the digests by name."""
    # Limitation: the MANIFEST is not signed, so it shows damage and accidental changes,
    # not a deliberate forgery that rewrites it too; the image is still checked against
    # the notebook's pin, and the notebook itself has no second record to be checked by.
    digests = _read_manifest(directory / MANIFEST, origin)
    present = {str(path.relative_to(directory)) for path in directory.rglob("*")
               if not path.is_dir()} - {MANIFEST}
    unlisted = sorted(present - set(digests))
    if unlisted:
        raise JupytainerError(f"{origin}: {unlisted[0]} is not listed in the MANIFEST: the bundle "
                              "was changed after it was published; ask its author for it again")
    for name, expected in digests.items():
        path = directory / name
        if name not in present:
            raise JupytainerError(f"{origin}: {name} is listed in the MANIFEST but missing "
                                  "from the bundle; ask its author for it again")
        if _sha256(path) != expected:
            raise JupytainerError(f"{origin}: {name} does not match its SHA-256 in the "
                                  "MANIFEST: the file was changed or damaged; ask the "
                                  "bundle's author for it again")
    return digests


def _add_image(bundle: Bundle, pin: dict, image: str | None, with_image: bool) -> str | None:
    """Add the definition file, and the image unless with_image is false; the image's
    member name, or None."""
    member = bundled_image_name(pin)
    if pin.get("definition"):
        bundle.texts[member.removesuffix(".sif") + ".def"] = pin["definition"].encode()
    if not with_image:
        return None
    if image is None:
        raise JupytainerError(f"give the image {bundle.notebook} is pinned to with --image "
                              "IMAGE.sif, or publish without it with --no-image")
    if not os.path.isfile(image):
        raise JupytainerError(f"image {image} does not exist: give the SIF file "
                              f"{bundle.notebook} is pinned to")
    if image_digest(image) != pin["image_digest"]:
        raise JupytainerError(f"{image} is not the image {bundle.notebook} is pinned to "
                              f"({pin['image_digest'][:19]}...): give that image, or pin the "
                              f"notebook to this one with 'jupytainer pin'")
    bundle.files[member] = Path(image)
    return member


def _included(base: Path, include: list[str] | tuple) -> Iterator[tuple[str, Path]]:
    """Data files named by --include, as members relative to the notebook's directory; a
    directory stands for every file below it."""
    for name in include:
        path = Path(name) if Path(name).is_absolute() else Path.cwd() / name
        if not path.exists():
            raise JupytainerError(f"--include {name}: no such file or directory")
        try:
            relative = path.resolve().relative_to(base.resolve())
        except ValueError:
            raise JupytainerError(f"--include {name} is outside {base.resolve()}, the "
                                  "notebook's directory: only files the notebook can find "
                                  "beside it can be included") from None
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            yield str(relative / file.relative_to(path)) if file != path else str(relative), file


def _write(bundle: Bundle, target: Path, pin: dict, image_member: str | None) -> dict:
    """Write the tar.zst under a temporary name beside target, then rename it."""
    import zstandard

    directory = target.parent if str(target.parent) else Path(".")
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    except OSError as failure:
        raise JupytainerError(f"cannot write {target}: {failure.strerror}") from None
    try:
        with os.fdopen(descriptor, "wb") as raw:
            compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1)
            with compressor.stream_writer(raw, closefd=False) as compressed:
                digests = _write_tar(compressed, bundle, pin, image_member, target.name)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return digests


def _write_tar(stream, bundle: Bundle, pin: dict, image_member: str | None,
               archive: str) -> dict:
    digests: dict[str, str] = {}
    stamp = int(time.time())
    with tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for member, source in sorted(bundle.files.items()):
            with open(source, "rb") as handle:
                hashing = _HashingReader(handle)
                tar.addfile(_info(bundle, member, source.stat().st_size, stamp), hashing)
            digests[member] = hashing.hexdigest()
        texts = dict(bundle.texts)
        texts[README] = readme(bundle, pin, image_member, archive).encode()
        for member, data in sorted(texts.items()):
            tar.addfile(_info(bundle, member, len(data), stamp), io.BytesIO(data))
            digests[member] = hashlib.sha256(data).hexdigest()
        manifest = "".join(f"{digests[name]}  {name}\n" for name in sorted(digests)).encode()
        tar.addfile(_info(bundle, MANIFEST, len(manifest), stamp), io.BytesIO(manifest))
    return digests


def readme(bundle: Bundle, pin: dict, image_member: str | None, archive: str) -> str:
    """The reviewer's instructions: what the bundle holds and the commands to reproduce."""
    output = f"{bundle.name}-reproduced.ipynb"
    data = len(bundle.files) - 1 - (1 if image_member else 0)
    held = (f"the image it ran in ({image_member}, {pin['image_digest']})" if image_member
            else f"the digest of the image it ran in ({pin['image_digest']}), not the image")
    lines = [f"# Reproducing {bundle.notebook}", "",
             f"Made by `jupytainer publish` (jupytainer {__version__}). This bundle holds the "
             f"notebook {bundle.notebook} with its outputs, {held}, the image's definition "
             f"file under {BUNDLE_IMAGE_DIR}/, {data} data file(s), and {MANIFEST}, the "
             "SHA-256 of every file (`sha256sum -c MANIFEST` checks an unpacked copy).", "",
             "To re-run the notebook in the same image and see which outputs change:", ""]
    lines += _commands(bundle, pin, image_member, archive, output)
    lines += ["", "`reproduce` checks every file against the MANIFEST and the image against "
              "the notebook's pin, runs the notebook headless in the image and lists, cell by "
              "cell, the outputs that changed. Exit status: 0 all outputs match, 1 some "
              "changed, 255 an error.", ""]
    return "\n".join(line if line.startswith(" ") else textwrap.fill(line, 80)
                     for line in lines)


def _commands(bundle: Bundle, pin: dict, image_member: str | None, archive: str,
              output: str) -> list[str]:
    if image_member:
        return ["    pip install 'jupytainer[jupyter]'",
                f"    jupytainer reproduce {archive} --output {output}"]
    definition = bundled_image_name(pin).removesuffix(".sif") + ".def"
    image = os.path.basename(bundled_image_name(pin))
    return [f"    tar --zstd -xf {archive} {bundle.name}/{definition}",
            f"    jupytainer build {image} {bundle.name}/{definition}",
            f"    jupytainer reproduce {archive} --image {image} --allow-different-image "
            f"--output {output}", "",
            "The image itself is not in this bundle: these commands rebuild it from its "
            "definition file. A rebuilt image rarely has the pinned digest (package versions "
            "move), hence --allow-different-image: the report then shows what the rebuild "
            "changed."]


def _info(bundle: Bundle, member: str, size: int, stamp: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"{bundle.name}/{member}")
    info.size, info.mtime, info.mode = size, stamp, 0o644
    return info


class _HashingReader:
    """A file object that hashes what is read through it, so a file is read once."""

    def __init__(self, handle) -> None:
        self._handle = handle
        self._digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._digest.update(data)
        return data

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def _extract(bundle: Path, root: Path) -> None:
    """Unpack only plain files and directories, only below root."""
    import zstandard

    try:
        with open(bundle, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as data:
            with tarfile.open(fileobj=data, mode="r|") as tar:
                for member in tar:
                    _extract_member(tar, member, root, bundle)
    except FileNotFoundError:
        raise JupytainerError(f"bundle {bundle} does not exist: give the .tar.zst file "
                              "'jupytainer publish' made") from None
    except IsADirectoryError:
        raise JupytainerError(f"{bundle} is a directory, not a bundle") from None
    except (zstandard.ZstdError, tarfile.TarError, EOFError) as failure:
        raise JupytainerError(f"{bundle} is not a readable jupytainer bundle ({failure}): "
                              "make it with 'jupytainer publish', or download it again") from None


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path,
                    bundle: Path) -> None:
    parts = PurePosixPath(member.name).parts
    if not parts or PurePosixPath(member.name).is_absolute() or ".." in parts:
        raise JupytainerError(f"{bundle} holds {member.name!r}, a name outside the bundle's "
                              "directory: refusing to unpack it")
    target = root.joinpath(*parts)
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
        return
    if not member.isfile():
        raise JupytainerError(f"{bundle} holds {member.name}, which is not a plain file: "
                              "refusing to unpack it")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tar.extractfile(member) as source, open(target, "xb") as handle:
        while block := source.read(_BLOCK):
            handle.write(block)


def _read_manifest(path: Path, origin: str) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise JupytainerError(f"{origin} has no readable {MANIFEST}: make it with "
                              "'jupytainer publish'") from None
    digests = {}
    for line in lines:
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or ".." in PurePosixPath(name).parts:
            raise JupytainerError(f"{origin}: the {MANIFEST} line {line!r} is not "
                                  "'SHA256  NAME': the bundle is damaged")
        digests[name] = digest
    return digests


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
