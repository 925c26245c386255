"""Manifests and indexes, OCI and Docker schema 2: their media types, the choice of one
platform's manifest in an index, and the layer list of an image manifest."""

import json
import platform as host_platform
from dataclasses import dataclass

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci.digests import check_digest

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v1+prettyjws")
ACCEPTED = (OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST)
INDEXES = (OCI_INDEX, DOCKER_LIST)

_FOREIGN = ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
             "armv7l": "arm/v7", "armv6l": "arm/v6", "i686": "386", "i386": "386",
             "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int


@dataclass(frozen=True)
class Platform:
    architecture: str
    variant: str = ""
    os: str = "linux"

    def __str__(self) -> str:
        return "/".join(filter(None, (self.os, self.architecture, self.variant)))


@dataclass(frozen=True)
class ImageManifest:
    config: Descriptor
    layers: tuple[Descriptor, ...]


def parse_platform(arch: str | None = None) -> Platform:
    """`--arch` (`amd64`, `arm64`, `arm/v7`, `linux/arm64/v8`) or the host's platform."""
    text = arch or _MACHINES.get(host_platform.machine(), host_platform.machine())
    parts = text.split("/")
    if parts[0] == "linux":
        parts = parts[1:]
    if not parts or not parts[0] or len(parts) > 2:
        raise JupytainerError(f"invalid architecture '{arch}': expected e.g. amd64 or arm/v7")
    return Platform(parts[0], parts[1] if len(parts) == 2 else "")


def load_json(body: bytes, what: str) -> dict:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as problem:
        raise JupytainerError(f"{what} is not valid JSON ({problem})") from None
    if not isinstance(document, dict):
        raise JupytainerError(f"{what} is not a JSON object")
    return document


def media_type_of(document: dict, declared: str = "") -> str:
    """The media type a manifest says it has, or what its shape shows."""
    kind = document.get("mediaType") or declared
    if not kind:
        kind = OCI_INDEX if "manifests" in document else OCI_MANIFEST
    if kind in DOCKER_SCHEMA1 or document.get("schemaVersion") == 1:
        raise JupytainerError("this image has a Docker schema 1 manifest, which is obsolete and "
                              "not supported: push it again with a current client")
    return kind


def choose_platform(index: dict, wanted: Platform, what: str) -> Descriptor:
    """The entry of an index for `wanted`; an arm64 request without a variant takes v8."""
    entries = [entry for entry in index.get("manifests", []) if isinstance(entry, dict)]
    for entry in entries:
        found = entry.get("platform") or {}
        variant = found.get("variant", "")
        if (found.get("os") == wanted.os and found.get("architecture") == wanted.architecture
                and (variant == wanted.variant or (not wanted.variant and variant in ("", "v8")))):
            return descriptor(entry, what)
    offered = sorted({_platform_text(entry) for entry in entries}) or ["none"]
    raise JupytainerError(f"{what} has no image for {wanted}; it offers "
                          f"{', '.join(offered)}: choose one with --arch")


def _platform_text(entry: dict) -> str:
    found = entry.get("platform") or {}
    return "/".join(filter(None, (found.get("os"), found.get("architecture"),
                                  found.get("variant")))) or "unknown"


def descriptor(entry: dict, what: str) -> Descriptor:
    try:
        size = int(entry.get("size", -1))
        return Descriptor(str(entry.get("mediaType", "")),
                          check_digest(entry.get("digest", ""), f"digest in {what}"), size)
    except (TypeError, ValueError):
        raise JupytainerError(f"{what} has an entry with an invalid size") from None


def parse_image_manifest(document: dict, what: str) -> ImageManifest:
    """Config and layers of an image manifest, refusing layers that cannot be unpacked."""
    if not isinstance(document.get("config"), dict):
        raise JupytainerError(f"{what} has no image config: it is not a container image")
    layers = tuple(descriptor(layer, what) for layer in document.get("layers") or []
                   if isinstance(layer, dict))
    for layer in layers:
        if layer.media_type in _FOREIGN:
            raise JupytainerError(f"{what} has a non-distributable layer {layer.digest}, which "
                                  "registries do not serve: it cannot be pulled")
    if not layers:
        raise JupytainerError(f"no extractable OCI/Docker tar layers found in {what}")
    return ImageManifest(descriptor(document["config"], what), layers)


def resolve(body: bytes, declared: str, digest: str, read, wanted: Platform,
            what: str) -> tuple[ImageManifest, str]:
    """Follow an index down to the image manifest for `wanted`: (manifest, its digest).
    `read(descriptor)` returns the verified bytes of a manifest a descriptor names."""
    for _ in range(4):
        document = load_json(body, what)
        kind = media_type_of(document, declared)
        if kind not in INDEXES:
            return parse_image_manifest(document, what), digest
        chosen = choose_platform(document, wanted, what)
        body, declared, digest = read(chosen), chosen.media_type, chosen.digest
    raise JupytainerError(f"{what} nests indexes too deeply")
