"""inspect-metadata.json: what `inspect --all` prints for an image, stored in the SIF so that
inspecting it needs no mount."""

import json
from pathlib import Path

from jupytainer.runtime.build import layout, paths

ATTRIBUTE_FILES = {
    "deffile": "Singularity",
    "runscript": "runscript",
    "startscript": "startscript",
    "test": "test",
    "helpfile": "runscript.help",
}
APP_FILES = {
    "runscript": "runscript",
    "startscript": "startscript",
    "test": "test",
    "helpfile": "runscript.help",
}


def inspect_metadata(rootfs: Path) -> bytes:
    """The JSON document for rootfs, in Apptainer's shape (empty fields left out)."""
    attributes: dict = {"labels": _json_file(rootfs, f"{layout.META}/labels.json")}
    for key, name in ATTRIBUTE_FILES.items():
        attributes[key] = _text(rootfs, f"{layout.META}/{name}")
    attributes["environment"] = _environment(rootfs)
    attributes["apps"] = _apps(rootfs)
    document = {"data": {"attributes": _without_empty(attributes)}, "type": "container"}
    return json.dumps(document, indent="\t").encode()


def _environment(rootfs: Path) -> dict[str, str]:
    directory = paths.inside(rootfs, f"{layout.META}/env")
    if not directory.is_dir():
        return {}
    selected = sorted([*directory.glob("10-docker*.sh"), *directory.glob("9*-environment.sh")])
    return {f"/{layout.META}/env/{script.name}": script.read_text(errors="replace")
            for script in selected if script.is_file()}


def _apps(rootfs: Path) -> dict[str, dict]:
    directory = paths.inside(rootfs, "scif/apps")
    if not directory.is_dir():
        return {}
    apps = {}
    for app in sorted(entry.name for entry in directory.iterdir() if entry.is_dir()):
        meta = f"scif/apps/{app}/scif"
        attributes: dict = {"labels": _json_file(rootfs, f"{meta}/labels.json")}
        for key, name in APP_FILES.items():
            attributes[key] = _text(rootfs, f"{meta}/{name}")
        environment = _text(rootfs, f"{meta}/env/90-environment.sh")
        if environment:
            attributes["environment"] = {f"/{meta}/env/90-environment.sh": environment}
        apps[app] = _without_empty(attributes)
    return apps


def _text(rootfs: Path, path: str) -> str:
    try:
        return paths.inside(rootfs, path).read_text(errors="replace")
    except OSError:
        return ""


def _json_file(rootfs: Path, path: str) -> dict:
    try:
        loaded = json.loads(_text(rootfs, path) or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _without_empty(attributes: dict) -> dict:
    return {key: value for key, value in attributes.items() if value}
