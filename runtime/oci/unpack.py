"""The one entry point of this package: an image source (`docker://`, `oci:`, `oci-archive:`,
`docker-archive:`) fetched and unpacked into a directory, with the Apptainer metadata an OCI
image becomes (environment script, runscript, labels) written under /.singularity.d."""

import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci import config as metadata
from jupytainer.runtime.oci.archive import open_docker_archive
from jupytainer.runtime.oci.blobcache import BlobCache
from jupytainer.runtime.oci.config import ImageConfig
from jupytainer.runtime.oci.digests import short
from jupytainer.runtime.oci.image import SourceImage
from jupytainer.runtime.oci.layers import apply_layer
from jupytainer.runtime.oci.layout import open_archive, open_directory
from jupytainer.runtime.oci.manifest import Platform, parse_platform
from jupytainer.runtime.oci.progress import LayerProgress
from jupytainer.runtime.oci.reference import parse_reference
from jupytainer.runtime.oci.remote import open_registry
from jupytainer.runtime.oci.saferoot import SafeRoot, write_file

TRANSPORTS = ("docker", "oci", "oci-archive", "docker-archive")
DOWNLOADS_AT_ONCE = 3


def split_source(source: str) -> tuple[str, str]:
    """`docker://alpine` -> ("docker", "alpine"); `oci-archive:x.tar` -> ("oci-archive", ...)."""
    transport, colon, rest = source.partition(":")
    if colon and transport in TRANSPORTS and rest:
        return transport, rest.removeprefix("//")
    raise JupytainerError(f"unsupported image source '{source}': use docker://, oci:, "
                          "oci-archive: or docker-archive:")


def open_source(source: str, wanted: Platform, *, login: tuple[str, str] | None = None,
                nohttps: bool = False, cache: BlobCache | None = None) -> SourceImage:
    """The image `source` names, resolved for platform `wanted` (nothing unpacked yet)."""
    transport, rest = split_source(source)
    if transport == "docker":
        return open_registry(parse_reference(rest), wanted, cache or BlobCache(),
                             login=login, nohttps=nohttps)
    path, tag = _path_and_tag(rest)
    if transport == "oci":
        return open_directory(path, tag, wanted)
    if transport == "oci-archive":
        return open_archive(path, tag, wanted)
    return open_docker_archive(path, tag)


def _path_and_tag(text: str) -> tuple[Path, str | None]:
    """`DIR:TAG`, where DIR itself may contain colons: the longest existing prefix wins."""
    if os.path.exists(text):
        return Path(text), None
    cut = text.find(":")
    while cut != -1:
        if os.path.exists(text[:cut]):
            return Path(text[:cut]), text[cut + 1:] or None
        cut = text.find(":", cut + 1)
    raise JupytainerError(f"image source '{text}' does not exist")


def unpack_image(source_reference: str, rootfs_dir: str | Path, *, arch: str | None = None,
                 login: tuple[str, str] | None = None, nohttps: bool = False,
                 cache: BlobCache | None = None, privileged: bool | None = None) -> ImageConfig:
    """Fetch the image and unpack it into `rootfs_dir` (made if missing, else it must be
    empty), then write its /.singularity.d metadata. On any failure the directory is
    emptied again (removed if this call made it), so nothing half-unpacked remains.
    The caller logs the surrounding steps (`Fetching OCI image...`); this logs the layers."""
    wanted = parse_platform(arch)
    nohttps = nohttps or _env_flag("NOHTTPS")
    image = open_source(source_reference, wanted, login=login, nohttps=nohttps, cache=cache)
    _check_platform(image, wanted, explicit=arch is not None)
    rootfs = Path(rootfs_dir)
    made = _prepare(rootfs)
    try:
        log.info("Extracting OCI image...")
        with SafeRoot(str(rootfs)) as root:
            _unpack_layers(image, root, privileged)
            _write_metadata(root, image.config)
    except BaseException:
        _discard(rootfs, made)
        raise
    image.config.base_name = image.name
    image.config.base_digest = image.digest
    return image.config


def _env_flag(name: str) -> bool:
    """A boolean setting from JUPYTAINER_NAME or APPTAINER_NAME, as `--name` would give."""
    return any(os.environ.get(prefix + name, "").lower() in ("1", "true", "yes")
               for prefix in ("JUPYTAINER_", "APPTAINER_", "SINGULARITY_"))


def _check_platform(image: SourceImage, wanted: Platform, explicit: bool) -> None:
    found = image.config.architecture
    if not found or found == wanted.architecture:
        return
    message = f"{image.name} is built for {found}, not {wanted.architecture}"
    if explicit:
        raise JupytainerError(message + ": choose the image for that architecture")
    log.warning(message + ": its programs may not run on this machine")


def _prepare(rootfs: Path) -> bool:
    if not rootfs.exists():
        rootfs.mkdir(mode=0o755, parents=True)
        return True
    if not rootfs.is_dir() or any(rootfs.iterdir()):
        raise JupytainerError(f"cannot unpack into {rootfs}: it is not an empty directory")
    return False


def _discard(rootfs: Path, made: bool) -> None:
    if made:
        shutil.rmtree(rootfs, ignore_errors=True)
        return
    for child in rootfs.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _unpack_layers(image: SourceImage, root: SafeRoot, privileged: bool | None) -> None:
    """Downloads run a few at a time; each layer is applied, in order, once it is there."""
    digests = [short(layer.digest or layer.diff_id or "") for layer in image.layers]
    display = LayerProgress(digests, [layer.size for layer in image.layers])
    total = len(image.layers)
    pool = ThreadPoolExecutor(max_workers=DOWNLOADS_AT_ONCE, thread_name_prefix="layer")
    try:
        fetches = _start_fetches(pool, image, display)
        for index, layer in enumerate(image.layers):
            if fetches[index] is not None:
                fetches[index].result()
            display.layer(index).state("unpacking")
            label = f"layer {index + 1}/{total} ({digests[index]})"
            with layer.open() as stream:
                apply_layer(root, stream, label, digest=layer.digest, diff_id=layer.diff_id,
                            privileged=privileged)
            display.layer(index).state("done")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_fetches(pool: ThreadPoolExecutor, image: SourceImage,
                   display: LayerProgress) -> list[Future | None]:
    """One download per distinct blob: an image may list the same layer twice, and two
    downloads of one digest would share a partial file."""
    started: dict[str, Future] = {}
    fetches: list[Future | None] = []
    for index, layer in enumerate(image.layers):
        if layer.fetch is None:
            fetches.append(None)
            continue
        key = layer.digest or str(index)
        if key not in started:
            started[key] = pool.submit(layer.fetch, display.layer(index))
        fetches.append(started[key])
    return fetches


def _write_metadata(root: SafeRoot, config: ImageConfig) -> None:
    """What Apptainer makes of an OCI image's config, written through the safe root (the
    image could have made /.singularity.d a symlink)."""
    write_file(root, ".singularity.d/env/10-docker2singularity.sh",
               metadata.environment_script(config).encode(), 0o755)
    write_file(root, ".singularity.d/runscript", metadata.runscript(config).encode(), 0o755)
    write_file(root, ".singularity.d/labels.json",
               metadata.labels_json(config.labels).encode(), 0o644)
