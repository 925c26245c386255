"""Checks on the build target before anything is built, with Apptainer's messages."""

import os
import sys
from pathlib import Path

from jupytainer.runtime.build.options import BuildOptions
from jupytainer.runtime.errors import JupytainerError

SANDBOX_MARKERS = (".singularity.d", "dev", "proc", "sys")


def check_target(options: BuildOptions) -> None:
    """Refuse a target that cannot or should not be written; ask on a terminal before
    replacing an existing one without --force."""
    try:
        _check(options)
    except PermissionError as denied:
        raise JupytainerError(f"cannot build {options.target}: permission denied on "
                              f"{denied.filename or options.target.parent}: choose a "
                              "target in a directory you can write") from None


def _check(options: BuildOptions) -> None:
    target = options.target
    if options.update:
        _check_update(options)
        return
    parent = target.parent
    if not parent.is_dir():
        raise JupytainerError(f"cannot create {target}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise JupytainerError(f"cannot create {target}: the directory {parent} is not "
                              "writable; choose a target you can write")
    if not os.path.lexists(target):
        return
    if target.is_dir() and any(target.iterdir()) and not is_sandbox(target) \
            and not options.force:
        raise JupytainerError(f"{target} is not empty and is not an Apptainer sandbox, check "
                              "its content first and use --force if you want to overwrite it")
    if not options.force and not _confirmed(target):
        raise JupytainerError(f"build target '{target}' already exists. Use --force if you "
                              "want to overwrite it")


def is_sandbox(path: Path) -> bool:
    return all((path / name).exists() for name in SANDBOX_MARKERS)


def _check_update(options: BuildOptions) -> None:
    if not options.sandbox:
        raise JupytainerError("only sandbox update is supported: --sandbox flag is missing")
    if not options.target.is_dir():
        raise JupytainerError(f"only sandbox update is supported: {options.target} is not a "
                              "directory (build it first without --update)")


def _confirmed(target: Path) -> bool:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    sys.stderr.write(f"Build target '{target}' already exists and will be deleted during "
                     "the build process. Do you want to continue? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
