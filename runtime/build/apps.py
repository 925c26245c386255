"""SCIF apps: each `%app*` section group becomes /scif/apps/NAME (its scripts, help,
labels and environment under scif/) and /scif/data/NAME, so `run --app NAME` finds them."""

import re
from pathlib import Path

from jupytainer.runtime.build import files, labels, layout, paths
from jupytainer.runtime.deffile.model import App

SCRIPTS = {"apprun": "runscript", "appstart": "startscript", "apptest": "test"}


def app_root(name: str) -> str:
    return f"/scif/apps/{name}"


def install_apps(apps: dict[str, App], rootfs: Path) -> None:
    """Lay out every app's directories and metadata, and copy its `%appfiles`."""
    for app in apps.values():
        _install(app, rootfs)
    if apps:
        layout.write(rootfs, f"{layout.META}/env/94-appsbase.sh", _global_exports(apps), 0o755)


def install_script(apps: dict[str, App]) -> str:
    """The `%appinstall` sections as shell code to append to `%post`, each run in its app's
    directory with the app's variables set."""
    chunks = []
    for app in apps.values():
        if "appinstall" in app.sections:
            root = app_root(app.name)
            body = app.sections["appinstall"].body
            chunks.append(f"\ncd /\n. {root}/scif/env/01-base.sh\ncd {root}\n{body}\ncd /\n")
    return "".join(chunks)


def _install(app: App, rootfs: Path) -> None:
    root = app_root(app.name)
    meta = f"{root}/scif"
    for directory in (f"{root}/bin", f"{root}/lib", f"{meta}/env",
                      f"/scif/data/{app.name}/input", f"/scif/data/{app.name}/output"):
        paths.inside(rootfs, directory).mkdir(parents=True, exist_ok=True)

    layout.write(rootfs, f"{meta}/env/01-base.sh", _app_variables(app.name), 0o755)
    environment = app.sections.get("appenv")
    layout.write(rootfs, f"{meta}/env/90-environment.sh",
                 "#!/bin/sh\n" + (environment.body if environment else ""), 0o755)
    for section, script in SCRIPTS.items():
        if section in app.sections:
            text = layout.script_text(app.sections[section].body, app.sections[section].args)
            layout.write(rootfs, f"{meta}/{script}", text, 0o755)
    if "apphelp" in app.sections:
        layout.write(rootfs, f"{meta}/runscript.help", app.sections["apphelp"].body, 0o644)
    layout.write(rootfs, f"{meta}/labels.json", labels.to_json(_app_labels(app)), 0o644)

    entries = [(source, f"{root}/{destination.lstrip('/')}" if destination
                else f"{root}/{Path(source).name}") for source, destination in app.files()]
    files.copy_group(entries, rootfs)


def _app_labels(app: App) -> dict[str, str]:
    return {"SCIF_APP_NAME": app.name, **app.labels()}


def _app_variables(name: str) -> str:
    root = app_root(name)
    values = {"SCIF_APPNAME": name, "SCIF_APPROOT": root, "SCIF_APPMETA": f"{root}/scif",
              "SCIF_DATA": "/scif/data", "SCIF_APPDATA": f"/scif/data/{name}",
              "SCIF_APPINPUT": f"/scif/data/{name}/input",
              "SCIF_APPOUTPUT": f"/scif/data/{name}/output"}
    return _exports(values)


def _global_exports(apps: dict[str, App]) -> str:
    values = {}
    for name in apps:
        root, key = app_root(name), re.sub(r"[^a-zA-Z0-9_]", "_", name)
        values.update({
            f"SCIF_APPDATA_{key}": f"/scif/data/{name}",
            f"SCIF_APPMETA_{key}": f"{root}/scif",
            f"SCIF_APPROOT_{key}": root,
            f"SCIF_APPBIN_{key}": f"{root}/bin",
            f"SCIF_APPLIB_{key}": f"{root}/lib",
            f"SCIF_APPENV_{key}": f"{root}/scif/env/90-environment.sh",
            f"SCIF_APPLABELS_{key}": f"{root}/scif/labels.json",
            f"SCIF_APPRUN_{key}": f"{root}/scif/runscript",
            f"SCIF_APPSTART_{key}": f"{root}/scif/startscript",
        })
    return _exports(values)


def _exports(values: dict[str, str]) -> str:
    lines = [f'{key}="{value}"' for key, value in values.items()]
    return "#!/bin/sh\n\n" + "\n".join(lines) + "\nexport " + " ".join(values) + "\n"
