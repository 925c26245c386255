"""An image's metadata - labels, definition file, scripts, help, environment, SCIF apps -
read without running the image, as `apptainer inspect` finds it.

A SIF built by Apptainer carries it all in its `inspect-metadata.json` object; otherwise
(older or foreign SIFs, sandboxes) it comes from the files under /.singularity.d and
/scif/apps, extracted from the squashfs partition or read from the sandbox directory.
"""

import glob
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.image import Image, resolve_image

METADATA_OBJECT = "inspect-metadata.json"
METADATA_DIR = "/.singularity.d"
APPS_DIR = "/scif/apps"
# Apptainer's builds store the definition as Apptainer; Singularity's as Singularity.
DEFFILE_NAMES = ("Apptainer", "Singularity")
APP_SECTIONS = ("environment", "labels", "runscript", "test", "helpfile")
# The order of Apptainer's JSON attributes.
JSON_ORDER = ("apps", "environment", "labels", "runscript", "test", "helpfile", "deffile",
              "startscript")


@dataclass
class AppMetadata:
    """One SCIF app's metadata (its /scif/apps/NAME/scif files)."""

    environment: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    runscript: str = ""
    test: str = ""
    helpfile: str = ""


@dataclass
class Metadata:
    """The whole image's metadata; an empty string or dict means the image has none."""

    labels: dict[str, str] = field(default_factory=dict)
    deffile: str = ""
    runscript: str = ""
    startscript: str = ""
    test: str = ""
    helpfile: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    apps: dict[str, AppMetadata] = field(default_factory=dict)


def open_image(reference: str) -> Image:
    """The image at reference, as the launcher resolves it, except that an image built for
    another architecture is accepted: its metadata is readable here even if it cannot run."""
    try:
        return resolve_image(reference)
    except JupytainerError as refusal:
        partition = _any_arch_partition(reference)
        if partition is None:
            raise refusal from None
        return Image(os.path.abspath(reference), False, partition.offset, partition.size)


def _any_arch_partition(reference: str):
    from jupytainer.runtime import sif

    try:
        with sif.load(reference) as image:
            return image.primary_partition()
    except (sif.SifError, OSError):
        return None


def read_metadata(image: Image) -> Metadata:
    """Everything inspect can show about image."""
    if image.is_sandbox:
        return read_root(image.path)
    stored, deffile = _sif_objects(image.path)
    if stored is not None:
        return _from_json(stored, image.path)
    with _extracted_metadata(image) as root:
        return _from_root(root, deffile)


def read_root(root: str) -> Metadata:
    """The metadata of a root file system on disk (a sandbox, or a build's root)."""
    return _from_root(root, deffile=None)


def inspect_all(metadata: Metadata) -> str:
    """What `inspect --all` prints: the JSON a SIF stores as inspect-metadata.json."""
    attributes = {name: getattr(metadata, name) for name in JSON_ORDER if name != "apps"}
    attributes["apps"] = {name: app_attributes(app) for name, app in metadata.apps.items()}
    return as_json(attributes)


def app_attributes(app: AppMetadata, sections: Iterable[str] = APP_SECTIONS) -> dict:
    """The chosen sections of one app, as inspect's JSON names them."""
    return {section: getattr(app, section) for section in APP_SECTIONS if section in sections}


def as_json(attributes: dict) -> str:
    """Attributes as Apptainer's inspect prints them: tab-indented, in its field order,
    empty fields left out, and <, >, & escaped as Go's encoder does."""
    document = {"data": {"attributes": _without_empty(attributes, JSON_ORDER)},
                "type": "container"}
    text = json.dumps(document, indent="\t", ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _without_empty(attributes: dict, order: tuple[str, ...]) -> dict:
    kept = {}
    for key in order:
        value = attributes.get(key)
        if key == "apps" and value:
            value = {name: _without_empty(app, APP_SECTIONS) for name, app in
                     sorted(value.items())}
        if value:
            kept[key] = dict(sorted(value.items())) if isinstance(value, dict) else value
    return kept


def _sif_objects(path: str) -> tuple[bytes | None, str | None]:
    """The inspect-metadata.json object and the definition file object, when present."""
    from jupytainer.runtime import sif

    try:
        with sif.load(path) as image:
            stored = image.find(name=METADATA_OBJECT)
            definition = image.find(data_type=sif.DataType.DEFFILE)
            return (image.read_bytes(stored) if stored else None,
                    _text(image.read_bytes(definition)) if definition else None)
    except sif.SifError as failure:
        raise JupytainerError(f"cannot read the metadata of {path}: {failure}") from None


def _from_json(stored: bytes, path: str) -> Metadata:
    try:
        attributes = json.loads(stored)["data"]["attributes"]
        apps = {name: AppMetadata(**_known(AppMetadata, values))
                for name, values in (attributes.get("apps") or {}).items()}
        return Metadata(**_known(Metadata, attributes, skip="apps"), apps=apps)
    except (ValueError, KeyError, TypeError) as failure:
        raise JupytainerError(f"{path} has an unreadable {METADATA_OBJECT} object "
                              f"({failure}): rebuild the image") from None


def _known(kind: type, values: dict, skip: str = "") -> dict:
    """The entries of values that kind has a field for (newer writers may add others)."""
    names = set(kind.__dataclass_fields__) - {skip}
    return {name: value for name, value in values.items() if name in names and value}


@contextmanager
def _extracted_metadata(image: Image) -> Iterator[str]:
    """A temporary directory holding the image's /.singularity.d and /scif/apps."""
    with tempfile.TemporaryDirectory(prefix="jupytainer-inspect-") as scratch:
        root = os.path.join(scratch, "root")
        command = ["unsquashfs", "-no-xattrs", "-quiet", "-no-progress",
                   "-o", str(image.partition_offset), "-d", root, image.path,
                   METADATA_DIR, APPS_DIR]
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise JupytainerError(f"cannot read the metadata of {image.path}: unsquashfs is "
                                  "not installed (it comes with squashfs-tools)") from None
        if result.returncode != 0 or not os.path.isdir(root):
            reason = (result.stderr.strip().splitlines() or ["unsquashfs failed"])[-1]
            raise JupytainerError(f"cannot read the metadata of {image.path} (unsquashfs: "
                                  f"{reason}): its root partition is damaged, rebuild it")
        yield root


def _from_root(root: str, deffile: str | None) -> Metadata:
    """Metadata from the files of a root file system (a sandbox or an extracted part)."""
    directory = METADATA_DIR
    metadata = Metadata(
        labels=_labels(root, f"{directory}/labels.json"),
        runscript=_read(root, f"{directory}/runscript"),
        startscript=_read(root, f"{directory}/startscript"),
        test=_read(root, f"{directory}/test"),
        helpfile=_read(root, f"{directory}/runscript.help"),
        environment=_environment(root, directory, with_docker=True))
    metadata.deffile = deffile if deffile is not None else _first(
        root, [f"{directory}/{name}" for name in DEFFILE_NAMES])
    metadata.deffile = metadata.deffile.rstrip("\n")
    for name in app_names(root):
        metadata.apps[name] = _app(root, f"{APPS_DIR}/{name}/scif")
    return metadata


def app_names(root: str) -> list[str]:
    """The SCIF apps installed under root, sorted."""
    pattern = os.path.join(root + APPS_DIR, "*", "scif")
    return sorted(os.path.basename(os.path.dirname(path)) for path in glob.glob(pattern)
                  if _inside(root, path) and os.path.isdir(path))


def _app(root: str, directory: str) -> AppMetadata:
    return AppMetadata(environment=_environment(root, directory, with_docker=False),
                       labels=_labels(root, f"{directory}/labels.json"),
                       runscript=_read(root, f"{directory}/runscript"),
                       test=_read(root, f"{directory}/test"),
                       helpfile=_read(root, f"{directory}/runscript.help"))


def _environment(root: str, directory: str, with_docker: bool) -> dict[str, str]:
    """The environment files inspect shows: OCI ones (10-docker*) and %environment ones."""
    patterns = (["10-docker*.sh"] if with_docker else []) + ["9*-environment.sh"]
    found = {}
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(root + directory, "env", pattern))):
            inner = path[len(root):]
            if os.path.isfile(path) and _inside(root, path):
                found[inner] = _read(root, inner)
    return found


def _labels(root: str, inner: str) -> dict[str, str]:
    text = _read(root, inner)
    if not text:
        return {}
    try:
        labels = json.loads(text)
    except ValueError as failure:
        log.warning(f"Unable to parse labels: {failure}")
        return {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        log.warning(f"Unable to parse labels: {inner} is not an object of strings")
        return {}
    return labels


def _first(root: str, candidates: list[str]) -> str:
    for inner in candidates:
        text = _read(root, inner)
        if text:
            return text
    return ""


def _read(root: str, inner: str) -> str:
    """The file's text without trailing newlines; "" when it is missing, or when a link
    would lead out of the image (a sandbox's links must not reveal host files)."""
    path = root + inner
    if not _inside(root, path) or not os.path.isfile(path):
        return ""
    try:
        with open(path, "rb") as handle:
            return _text(handle.read()).rstrip("\n")
    except OSError:
        return ""


def _inside(root: str, path: str) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
