"""`docker save` archives (`docker-archive:FILE[:NAME:TAG]`): a manifest.json listing each
image's config and layer files; layers are checked against the config's diff_ids."""

import json
from pathlib import Path

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci import manifest as media
from jupytainer.runtime.oci.config import parse_config
from jupytainer.runtime.oci.digests import check_digest, digest_of
from jupytainer.runtime.oci.image import LayerBlob, SourceImage
from jupytainer.runtime.oci.layout import TarFiles, read_file


def open_docker_archive(path: Path, tag: str | None) -> SourceImage:
    """The image `tag` names in the archive, or its only image."""
    files = TarFiles(path)
    name = f"the docker archive {path}"
    entry = _select(_entries(read_file(files, "manifest.json", name), name), tag, name)
    config_body = read_file(files, str(entry.get("Config", "")), name)
    document = media.load_json(config_body, f"the image config in {name}")
    layer_names = [str(layer) for layer in entry.get("Layers") or []]
    diff_ids = (document.get("rootfs") or {}).get("diff_ids") or []
    if not layer_names or len(diff_ids) != len(layer_names):
        raise JupytainerError(f"{name} lists {len(layer_names)} layers but its config has "
                              f"{len(diff_ids)} diff_ids: the archive is damaged")
    layers = [LayerBlob(None, -1, _opener(files, layer, name),
                        diff_id=check_digest(diff_id, f"diff_id in {name}"))
              for layer, diff_id in zip(layer_names, diff_ids)]
    return SourceImage(name, digest_of(config_body), parse_config(document), layers)


def _entries(body: bytes, name: str) -> list[dict]:
    try:
        entries = json.loads(body)
    except (ValueError, UnicodeDecodeError) as problem:
        raise JupytainerError(f"manifest.json in {name} is not valid JSON ({problem})") from None
    if not isinstance(entries, list) or not all(isinstance(item, dict) for item in entries):
        raise JupytainerError(f"manifest.json in {name} is not a list of images")
    return entries


def _select(entries: list[dict], tag: str | None, name: str) -> dict:
    if tag is None:
        if len(entries) == 1:
            return entries[0]
        raise JupytainerError(f"{name} holds {len(entries)} images: name one with "
                              f"docker-archive:{name.rsplit(' ', 1)[-1]}:NAME:TAG")
    for entry in entries:
        if any(_same_tag(found, tag) for found in entry.get("RepoTags") or []):
            return entry
    raise JupytainerError(f"no image tagged '{tag}' in {name}")


def _same_tag(found: str, wanted: str) -> bool:
    """`alpine:3` matches `docker.io/library/alpine:3` as Docker writes it."""
    for prefix in ("docker.io/library/", "docker.io/", ""):
        if found.removeprefix(prefix) == wanted.removeprefix(prefix):
            return True
    return False


def _opener(files: TarFiles, layer: str, name: str):
    def open_layer():
        try:
            return files.open(layer.removeprefix("./"))
        except OSError:
            raise JupytainerError(f"{name} lacks the layer file {layer}") from None
    return open_layer
