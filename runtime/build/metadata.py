"""The stage's sections written under /.singularity.d after `%post`, in Apptainer's order:
help, labels, definition, environment, startscript, runscript, test."""

import os
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.build import labels, layout, paths
from jupytainer.runtime.build.options import BuildContext
from jupytainer.runtime.deffile.model import Stage

HELP = f"{layout.META}/runscript.help"
DEFINITION = f"{layout.META}/Singularity"
HISTORY = f"{layout.META}/bootstrap_history"
SCRIPTS = (("startscript", "startscript", "Adding startscript"),
           ("runscript", "runscript", "Adding runscript"),
           ("test", "test", "Adding testscript"))


def insert_metadata(stage: Stage, rootfs: Path, context: BuildContext) -> None:
    options = context.options
    if "help" in stage.sections and options.runs("help"):
        _help(stage.sections["help"].body, rootfs, options.force)
    if options.runs("labels"):
        log.info("Adding labels")
        build = labels.build_labels(stage.header, context.created, "help" in stage.sections,
                                    options.update, context.oci_base)
        labels.write_labels(rootfs, build, stage.labels(), options.force)
    _definition(context.definition.raw_bytes(), rootfs)
    if "environment" in stage.sections and options.runs("environment"):
        log.info("Adding environment to container")
        layout.append(rootfs, f"{layout.META}/env/90-environment.sh",
                      "\n" + stage.sections["environment"].body + "\n")
    for section, name, message in SCRIPTS:
        if section in stage.sections and options.runs(section):
            log.info(message)
            text = layout.script_text(stage.sections[section].body,
                                      stage.sections[section].args)
            layout.write(rootfs, f"{layout.META}/{name}", text, 0o755)


def _help(text: str, rootfs: Path, force: bool) -> None:
    target = paths.inside(rootfs, HELP)
    if target.exists() and not force:
        log.warning("a help file is already in the image and force option is false, "
                    "not overwriting")
        return
    log.info("Adding help info")
    layout.write(rootfs, HELP, text + "\n", 0o644)


def _definition(raw: bytes, rootfs: Path) -> None:
    """The definition as given, byte for byte; a previous one (from the image this one
    starts from) is kept in bootstrap_history."""
    target = paths.inside(rootfs, DEFINITION)
    if target.is_file():
        history = paths.inside(rootfs, HISTORY)
        history.mkdir(parents=True, exist_ok=True)
        os.replace(target, history / f"Apptainer{len(os.listdir(history))}")
    target.write_bytes(raw)
    os.chmod(target, 0o644)
