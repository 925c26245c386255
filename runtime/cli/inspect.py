"""`jupytainer inspect` and `jupytainer run-help`: an image's metadata, in Apptainer's
text and JSON formats, read without starting a container."""

import argparse
import json

from jupytainer.runtime.metadata import (APP_SECTIONS, Metadata, app_attributes, as_json,
                                         inspect_all, open_image, read_metadata)

NO_HELP = "No help sections were defined for this image"

# (flag, short flag, section, help), in the order Apptainer prints the sections.
_SECTIONS = [
    ("--deffile", "-d", "deffile", "show the definition file the image was built from"),
    ("--runscript", "-r", "runscript", "show the runscript"),
    ("--startscript", "-s", "startscript", "show the instance start script"),
    ("--test", "-t", "test", "show the test script"),
    ("--helpfile", "-H", "helpfile", "show the runscript help"),
    ("--environment", "-e", "environment", "show the environment files"),
    ("--labels", "-l", "labels", "show the labels (the default)"),
]


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("image", help="a SIF file or a sandbox directory")
    if verb == "run-help":
        parser.add_argument("--app", default="", help="show the help of this SCIF app")
        return
    for flag, short, section, summary in _SECTIONS:
        parser.add_argument(short, flag, dest=section, action="store_true", help=summary)
    parser.add_argument("-j", "--json", action="store_true",
                        help="print Apptainer's JSON structure instead of sections")
    parser.add_argument("--all", action="store_true",
                        help="show everything the image holds, as JSON")
    parser.add_argument("--list-apps", action="store_true", help="list the SCIF apps")
    parser.add_argument("--app", default="", help="inspect this SCIF app")


def run(args: argparse.Namespace) -> int:
    metadata = read_metadata(open_image(args.image))
    if args.verb == "run-help":
        return _run_help(metadata, args.app)

    if args.all:
        print(inspect_all(metadata))
        return 0

    attributes = _selected(metadata, _chosen_sections(args), args.app,
                           with_apps=args.list_apps)
    if args.json:
        print(as_json(attributes))
    else:
        print(render_text(attributes, args.app, args.list_apps), end="")
    return 0


def _run_help(metadata: Metadata, app: str) -> int:
    attributes = _selected(metadata, {"helpfile"}, app, with_apps=False)
    text = render_text(attributes, app, list_apps=False)
    print(text if text else NO_HELP, end="" if text else "\n")
    return 0


def _chosen_sections(args: argparse.Namespace) -> set[str]:
    """The sections asked for; labels when none is (unless only --list-apps is)."""
    chosen = {section for _, _, section, _ in _SECTIONS if getattr(args, section)}
    if not chosen and not args.list_apps:
        chosen.add("labels")
    return chosen


def _selected(metadata: Metadata, sections: set[str], app: str, with_apps: bool) -> dict:
    """Apptainer's `attributes` object: the chosen sections of the image, or of one app."""
    attributes: dict = {"apps": {}}
    if with_apps:
        attributes["apps"] = {name: app_attributes(values)
                              for name, values in metadata.apps.items()}
    if app:
        if app in metadata.apps and sections & set(APP_SECTIONS):
            attributes["apps"][app] = app_attributes(metadata.apps[app], sections)
        if "deffile" in sections:
            attributes["deffile"] = metadata.deffile
        return attributes
    for section in sections:
        attributes[section] = getattr(metadata, section)
    return attributes


def render_text(attributes: dict, app: str, list_apps: bool) -> str:
    """The sections as `apptainer inspect` prints them, in its order."""
    own = attributes.get("apps", {}).get(app, {}) if app else {}
    lines = sorted(attributes.get("apps", {})) if list_apps else []
    for section in ("deffile", "runscript", "startscript", "test", "helpfile"):
        value = attributes.get(section) or own.get(section)
        if value:
            lines.append(value)
    environment = attributes.get("environment") or own.get("environment") or {}
    for path, content in sorted(environment.items()):
        lines.append(f"=== {path} ===\n{content}\n")
    labels = attributes.get("labels") or own.get("labels") or {}
    lines.extend(f"{key}: {value}" for key, value in sorted(labels.items()))
    return "".join(f"{line}\n" for line in lines)
