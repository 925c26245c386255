"""OCI image layouts (`oci:DIR[:TAG]`) and their tar form (`oci-archive:FILE[:TAG]`): an
index.json naming manifests, and every blob under blobs/<algorithm>/<hex>."""

import tarfile
from pathlib import Path
from typing import BinaryIO

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci import manifest as media
from jupytainer.runtime.oci.config import parse_config
from jupytainer.runtime.oci.digests import DigestReader, check_digest
from jupytainer.runtime.oci.image import LayerBlob, SourceImage
from jupytainer.runtime.oci.manifest import Descriptor, Platform

_REF_NAME = "org.opencontainers.image.ref.name"
MAX_JSON_BYTES = 4 << 20


class DirectoryFiles:
    """Files of a layout directory."""

    def __init__(self, root: Path):
        self.root = root

    def open(self, name: str) -> BinaryIO:
        return open(self.root / name, "rb")


class TarFiles:
    """Files of a tar archive, read in place without extracting anything to disk."""

    def __init__(self, path: Path):
        try:
            self.archive = tarfile.open(path, "r:*")
        except (OSError, tarfile.TarError) as problem:
            raise JupytainerError(f"cannot read the archive {path}: {problem}") from None
        self.members = {member.name.removeprefix("./"): member
                        for member in self.archive.getmembers()}
        self.path = path

    def open(self, name: str) -> BinaryIO:
        member = self.members.get(name)
        found = self.archive.extractfile(member) if member is not None else None
        if found is None:
            raise FileNotFoundError(f"{self.path}: no file {name} in the archive")
        return found


Files = DirectoryFiles | TarFiles


def read_file(files: Files, name: str, what: str) -> bytes:
    """A small metadata file of the layout or archive (index.json, manifest.json)."""
    try:
        with files.open(name) as handle:
            body = handle.read(MAX_JSON_BYTES + 1)
    except OSError:
        raise JupytainerError(f"{what} has no {name}: it is not an image of that kind") from None
    if len(body) > MAX_JSON_BYTES:
        raise JupytainerError(f"{what}: {name} is larger than 4 MiB: refusing it")
    return body


def blob_name(digest: str) -> str:
    algorithm, _, value = check_digest(digest).partition(":")
    return f"blobs/{algorithm}/{value}"


def read_blob(files: Files, descriptor: Descriptor, what: str) -> bytes:
    """A small blob (manifest, config), checked against its digest."""
    try:
        with files.open(blob_name(descriptor.digest)) as handle:
            reader = DigestReader(handle, descriptor.digest, f"blob {descriptor.digest} of {what}")
            body = reader.read(MAX_JSON_BYTES + 1)
            if len(body) > MAX_JSON_BYTES:
                raise JupytainerError(f"{what}: blob {descriptor.digest} is too large for JSON")
            reader.verify()
    except OSError:
        raise JupytainerError(f"{what} lacks the blob {descriptor.digest}") from None
    return body


def open_layout(files: Files, name: str, tag: str | None, wanted: Platform) -> SourceImage:
    """The image `tag` names in the layout (or its only image), for platform `wanted`."""
    index = media.load_json(read_file(files, "index.json", name), f"index.json of {name}")
    top = _select(index, tag, name, wanted)
    body = read_blob(files, top, name)
    manifest, _ = media.resolve(body, top.media_type, top.digest,
                                lambda found: read_blob(files, found, name), wanted, name)
    config = parse_config(media.load_json(read_blob(files, manifest.config, name), name))
    layers = [LayerBlob(layer.digest, layer.size, _opener(files, layer.digest, name))
              for layer in manifest.layers]
    return SourceImage(name, top.digest, config, layers)


def _select(index: dict, tag: str | None, name: str, wanted: Platform) -> Descriptor:
    entries = [entry for entry in index.get("manifests") or [] if isinstance(entry, dict)]
    if tag is not None:
        entries = [entry for entry in entries
                   if (entry.get("annotations") or {}).get(_REF_NAME) == tag]
        if not entries:
            raise JupytainerError(f"no image tagged '{tag}' in {name}")
    if len(entries) == 1:
        return media.descriptor(entries[0], name)
    if entries and all("platform" in entry for entry in entries):
        return media.choose_platform(index, wanted, name)
    tags = sorted({(entry.get("annotations") or {}).get(_REF_NAME, "?") for entry in entries})
    raise JupytainerError(f"{name} holds {len(entries)} images: name one with "
                          f"{name}:TAG (tags: {', '.join(tags) or 'none'})")


def _opener(files: Files, digest: str, name: str):
    def open_layer():
        try:
            return files.open(blob_name(digest))
        except OSError:
            raise JupytainerError(f"{name} lacks the layer {digest}") from None
    return open_layer


def open_directory(path: Path, tag: str | None, wanted: Platform) -> SourceImage:
    if not (path / "oci-layout").is_file():
        raise JupytainerError(f"{path} is not an OCI image layout (it has no oci-layout file)")
    return open_layout(DirectoryFiles(path), f"the OCI layout {path}", tag, wanted)


def open_archive(path: Path, tag: str | None, wanted: Platform) -> SourceImage:
    return open_layout(TarFiles(path), f"the OCI archive {path}", tag, wanted)

