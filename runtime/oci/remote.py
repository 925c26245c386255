"""Images in a registry (`docker://`): the manifest chain resolved for one platform, layers
downloaded into the blob cache when the unpacker asks for them."""

from pathlib import Path

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci import manifest as media
from jupytainer.runtime.oci.blobcache import BlobCache
from jupytainer.runtime.oci.config import parse_config
from jupytainer.runtime.oci.digests import short
from jupytainer.runtime.oci.image import LayerBlob, LayerReport, SourceImage
from jupytainer.runtime.oci.manifest import Descriptor, Platform
from jupytainer.runtime.oci.oras import SIF_LAYER
from jupytainer.runtime.oci.reference import ImageReference
from jupytainer.runtime.oci.registry import RegistryClient

MAX_CONFIG_BYTES = 4 << 20


def open_registry(image: ImageReference, wanted: Platform, cache: BlobCache, *,
                  login: tuple[str, str] | None = None, nohttps: bool = False) -> SourceImage:
    client = RegistryClient(image, login=login, nohttps=nohttps)
    body, kind, digest = client.manifest(image.reference)

    def read(found: Descriptor) -> bytes:
        return client.manifest(found.digest)[0]

    manifest, _ = media.resolve(body, kind, digest, read, wanted, str(image))
    if any(layer.media_type == SIF_LAYER for layer in manifest.layers):
        raise JupytainerError(f"{image} is a SIF file stored as an ORAS artifact, not a "
                              f"container image: pull it with oras://{image} instead")
    if manifest.config.size > MAX_CONFIG_BYTES:
        raise JupytainerError(f"the image config of {image} is larger than 4 MiB: refusing it")
    config_path = client.fetch_blob(manifest.config.digest, manifest.config.size, cache)
    config = parse_config(media.load_json(config_path.read_bytes(), f"the config of {image}"))
    layers = [_layer(client, cache, layer) for layer in manifest.layers]
    return SourceImage(str(image), digest, config, layers)


def _layer(client: RegistryClient, cache: BlobCache, layer: Descriptor) -> LayerBlob:
    def fetch(report: LayerReport) -> None:
        if cache.get(layer.digest) is not None:
            report.state("cached")
            return
        report.state("downloading")
        client.fetch_blob(layer.digest, layer.size, cache, report.advance)

    def open_layer():
        path: Path | None = cache.get(layer.digest)
        if path is None:
            raise JupytainerError(f"layer {short(layer.digest)} vanished from the cache")
        return open(path, "rb")

    return LayerBlob(layer.digest, layer.size, open_layer, fetch=fetch)
