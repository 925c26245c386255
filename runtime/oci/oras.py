"""SIF files kept in OCI registries as ORAS artifacts (`oras://registry/repo:tag`): one
layer holding the SIF file, under the media types Apptainer uses, so that images pushed by
either tool pull with the other."""

import hashlib
import json
import os
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci import manifest as media
from jupytainer.runtime.oci.blobcache import BlobCache
from jupytainer.runtime.oci.digests import digest_of
from jupytainer.runtime.oci.reference import ImageReference, parse_reference
from jupytainer.runtime.oci.registry import RegistryClient

SIF_CONFIG = "application/vnd.sylabs.sif.config.v1+json"
SIF_LAYER = "application/vnd.sylabs.sif.layer.v1.sif"
_TITLE = "org.opencontainers.image.title"


def parse_oras(uri: str) -> ImageReference:
    if not uri.startswith("oras://"):
        raise JupytainerError(f"'{uri}' is not an ORAS reference: write oras://REGISTRY/REPO:TAG")
    return parse_reference(uri[len("oras://"):])


def push_sif(sif: Path, uri: str, *, login: tuple[str, str] | None = None,
             nohttps: bool = False) -> str:
    """Upload `sif` as an artifact; returns the manifest digest."""
    _check_sif(sif)
    image = parse_oras(uri)
    client = RegistryClient(image, login=login, nohttps=nohttps, push=True)
    config = b"{}"
    layer_digest = _file_digest(sif)
    client.upload_blob(config, digest_of(config))
    client.upload_blob(sif, layer_digest)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": media.OCI_MANIFEST,
        "config": {"mediaType": SIF_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": SIF_LAYER, "digest": layer_digest,
                    "size": sif.stat().st_size, "annotations": {_TITLE: sif.name}}],
    }).encode()
    client.put_manifest(image.reference, manifest, media.OCI_MANIFEST)
    return digest_of(manifest)


def pull_sif(uri: str, target: Path, *, login: tuple[str, str] | None = None,
             nohttps: bool = False, cache: BlobCache | None = None) -> None:
    """Download the SIF of an artifact to `target`, written under a temporary name first."""
    image = parse_oras(uri)
    client = RegistryClient(image, login=login, nohttps=nohttps)
    body, kind, _ = client.manifest(image.reference)
    document = media.load_json(body, f"the manifest of {image}")
    if media.media_type_of(document, kind) in media.INDEXES:
        raise JupytainerError(f"{image} is an index, not a SIF artifact")
    layers = [media.descriptor(layer, str(image)) for layer in document.get("layers") or []
              if isinstance(layer, dict) and layer.get("mediaType") == SIF_LAYER]
    if len(layers) != 1:
        raise JupytainerError(f"{image} is not a SIF artifact (no layer of type {SIF_LAYER}): "
                              "pull it with docker:// instead")
    log.info(f"Downloading SIF image {image}")
    cached = client.fetch_blob(layers[0].digest, layers[0].size, cache or BlobCache())
    _check_sif(cached)
    _copy_atomically(cached, target)


def _check_sif(path: Path) -> None:
    from jupytainer.runtime.sif import load

    try:
        open(path, "rb").close()
    except OSError as problem:
        raise JupytainerError(f"cannot read {path}: {problem.strerror}") from None
    try:
        with load(path):
            pass
    except JupytainerError as problem:
        raise JupytainerError(f"{path} is not a valid SIF image ({problem})") from None


def _file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return f"sha256:{hasher.hexdigest()}"


def _copy_atomically(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(source, "rb") as reader, open(partial, "wb") as writer:
            while chunk := reader.read(1 << 20):
                writer.write(chunk)
        os.chmod(partial, 0o755)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
