"""A whole build: the source, each stage in its own root filesystem, then the last one
written as a SIF file or a sandbox, with a one-line summary at the end."""

import os
import time
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.build import assemble, layout, process, source, target, userns
from jupytainer.runtime.build.agents import agent_for
from jupytainer.runtime.build.options import BuildContext, BuildOptions
from jupytainer.runtime.build.stage import build_stage
from jupytainer.runtime.build.workspace import Workspace
from jupytainer.runtime.errors import JupytainerError


def build(options: BuildOptions) -> Path:
    """Build options.source into options.target; returns the target."""
    started = time.monotonic()
    log.info("Starting build...")
    process.find_system_tools()
    target.check_target(options)
    definition = source.load_source(options)
    conversion = source.is_image(options.source)
    epoch = source_date_epoch()
    if not conversion:
        _announce_privileges()

    with Workspace() as space:
        created = time.time() if epoch is None else epoch
        context = BuildContext(options, definition, epoch, created=created,
                               staging=space.directory("staging"))
        rootfs = _build_stages(context, space, conversion)
        _write_output(rootfs, options, context, space, conversion)

    _summary(options, time.monotonic() - started)
    return options.target


def _build_stages(context: BuildContext, space: Workspace, conversion: bool) -> Path:
    """Build every stage, each in its own root filesystem; returns the last one's.

    An image given as the source (a conversion) is only unpacked and completed with the
    base layout: its metadata stays as it was built."""
    stages = context.definition.stages
    for index, stage in enumerate(stages):
        last = index == len(stages) - 1
        if len(stages) > 1:
            log.info(f"Stage {index + 1}/{len(stages)}: {stage.name or '(unnamed)'} "
                     f"(Bootstrap: {stage.bootstrap})")
        rootfs = _stage_root(space, context.options, last)
        context.oci_config = context.oci_base = None
        if conversion:
            agent_for(stage.bootstrap).bootstrap(stage, rootfs, context)
            layout.make_base_environment(rootfs)
        else:
            build_stage(stage, rootfs, context, last=last)
        if stage.name:
            context.stage_roots[stage.name] = rootfs
    return rootfs


def source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise JupytainerError(f"SOURCE_DATE_EPOCH={value} is not a number of seconds since "
                              "1970: set it to e.g. $(git log -1 --format=%ct)") from None


def _announce_privileges() -> None:
    """Say how an unprivileged build gets its root, in Apptainer's words."""
    if userns.is_root():
        return
    if userns.has_subordinate_ids():
        log.verbose(f"building as root in a user namespace with {userns.caller_name()}'s "
                    "subordinate IDs")
    else:
        log.info("User not listed in /etc/subuid, trying root-mapped namespace")


def _stage_root(space: Workspace, options: BuildOptions, last: bool) -> Path:
    """Where a stage is built: the sandbox itself for --update, beside the target for a new
    sandbox (to be renamed onto it), else in the temporary root."""
    if last and options.update:
        return options.target
    if last and options.sandbox:
        rootfs = space.directory("sandbox", near=options.target)
    else:
        rootfs = space.directory("rootfs")
    os.chmod(rootfs, 0o755)
    return rootfs


def _write_output(rootfs: Path, options: BuildOptions, context: BuildContext,
                  space: Workspace, conversion: bool) -> None:
    if options.fix_perms:
        process.run_checked(userns.as_root(["chmod", "-R", "u+rwX", str(rootfs)]),
                            "--fix-perms")
    if options.update:
        return
    if options.sandbox:
        log.info("Creating sandbox directory...")
        assemble.place_sandbox(rootfs, options.target, space)
        return
    definition = _image_definition(rootfs) if conversion else None
    assemble.write_sif(rootfs, options.target,
                       definition or context.definition.raw_bytes(),
                       space.directory("squashfs"), mksquashfs_args=options.mksquashfs_args,
                       epoch=context.epoch, oci_config=context.oci_config)


def _image_definition(rootfs: Path) -> bytes | None:
    """An image converted (SIF to sandbox to SIF) keeps the definition it was built from."""
    stored = rootfs / layout.META / "Singularity"
    return stored.read_bytes() if stored.is_file() and not stored.is_symlink() else None


def _summary(options: BuildOptions, seconds: float) -> None:
    kind = "sandbox" if options.sandbox else "SIF"
    size = _size(options.target)
    log.info(f"Build complete: {options.target} ({kind}, {_human(size)}, "
             f"{_duration(seconds)})")


def _size(path: Path) -> int:
    if not path.is_dir():
        return path.stat().st_size
    total = 0
    for directory, _, names in os.walk(path, onerror=lambda _error: None):
        for name in names:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:
                pass
    return total


def _human(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"
