"""One stage of a build, in Apptainer's order: bootstrap, apps, `%files from`, `%setup`,
`%files`, `%post`, metadata, `%test`."""

from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.build import apps, files, layout, metadata, scripts
from jupytainer.runtime.build.agents import agent_for
from jupytainer.runtime.build.options import BuildContext
from jupytainer.runtime.deffile.model import Stage
from jupytainer.runtime.errors import JupytainerError


def build_stage(stage: Stage, rootfs: Path, context: BuildContext, *, last: bool) -> None:
    """Build stage into the (empty, or with --update existing) directory rootfs."""
    options = context.options
    _scriptlet(stage, "pre", rootfs, context)
    if not (options.update and last) or options.force:
        agent_for(stage.bootstrap).bootstrap(stage, rootfs, context)
    log.info("Inserting Apptainer configuration...")
    layout.make_base_environment(rootfs)
    apps.install_apps(stage.apps, rootfs)

    if options.runs("files"):
        _stage_files(stage, rootfs, context)
    _scriptlet(stage, "setup", rootfs, context)
    if options.runs("files"):
        for group in stage.files:
            if group.source_stage is None:
                files.copy_group(group.entries, rootfs)

    post = stage.sections.get("post")
    body = (post.body if post else "") + apps.install_script(stage.apps)
    if body.strip() and options.runs("post"):
        scripts.run_post(body, post.args if post else "", rootfs, context.staging,
                         options.binds)
    metadata.insert_metadata(stage, rootfs, context)
    scripts.remove_leftovers(rootfs)

    if "test" in stage.sections and options.runs("test") and not options.notest:
        scripts.run_test(rootfs, options.binds)


def _stage_files(stage: Stage, rootfs: Path, context: BuildContext) -> None:
    for group in stage.files:
        if group.source_stage is None:
            continue
        source_root = context.stage_roots.get(group.source_stage)
        if source_root is None:
            raise JupytainerError(f"%files from {group.source_stage}: stage "
                                  f"{group.source_stage} was not found (name an earlier "
                                  "stage's 'Stage:' value)")
        files.copy_group(group.entries, rootfs, source_root)


def _scriptlet(stage: Stage, name: str, rootfs: Path, context: BuildContext) -> None:
    section = stage.sections.get(name)
    if section and section.body.strip() and context.options.runs(name):
        scripts.run_setup(section.body, section.args, rootfs, label=name)
