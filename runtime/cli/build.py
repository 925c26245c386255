"""`jupytainer build TARGET SOURCE`: a definition file, image or URI to a SIF or sandbox."""

import argparse
import os
from pathlib import Path


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("target", help="the SIF file or (with --sandbox) directory to write")
    parser.add_argument("source", help="a definition file, a SIF image, a sandbox directory, "
                        "or a URI such as docker://debian:bookworm")
    parser.add_argument("-s", "--sandbox", action="store_true", default=_env_flag("SANDBOX"),
                        help="build a writable directory instead of a SIF file")
    parser.add_argument("-F", "--force", action="store_true", default=_env_flag("FORCE"),
                        help="replace an existing target; overwrite existing labels and help")
    parser.add_argument("-u", "--update", action="store_true", default=_env_flag("UPDATE"),
                        help="run the definition's sections on an existing sandbox")
    parser.add_argument("-T", "--notest", action="store_true", default=_env_flag("NOTEST"),
                        help="do not run the %%test section after the build")
    parser.add_argument("--section", action="append", default=[], metavar="LIST",
                        help="only run these sections (comma list: setup, post, files, "
                        "environment, test, labels, help, runscript, startscript; all, none)")
    # Limitation: as root, --fakeroot changes nothing: the build runs as real root.
    parser.add_argument("-f", "--fakeroot", action="store_true",
                        help="build as root in a user namespace (what an unprivileged build "
                        "always does; accepted for Apptainer's command lines)")
    parser.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="a value for a {{ KEY }} placeholder (repeatable)")
    parser.add_argument("--build-arg-file", action="append", default=[], metavar="FILE",
                        help="a file of KEY=VALUE lines for placeholders")
    parser.add_argument("--warn-unused-build-args", action="store_true",
                        help="accepted for Apptainer's command lines: an unused build arg is "
                        "always a warning here")
    parser.add_argument("--fix-perms", action="store_true",
                        help="give the owner read and write access to every file")
    parser.add_argument("-B", "--bind", action="append", default=[], metavar="SPEC",
                        help="bind a host path into %%post and %%test (src[:dest[:opts]])")
    parser.add_argument("--mksquashfs-args", default=_env("MKSQUASHFS_ARGS"), metavar="ARGS",
                        help="extra mksquashfs options, e.g. '-comp gzip' (zstd level 3 by "
                        "default)")


def run(args: argparse.Namespace) -> int:
    from jupytainer.runtime.build.builder import build
    from jupytainer.runtime.build.options import BuildOptions

    options = BuildOptions(
        target=Path(os.path.abspath(args.target)), source=args.source, sandbox=args.sandbox,
        force=args.force, update=args.update, notest=args.notest,
        sections=args.section or ["all"], build_args=args.build_arg,
        build_arg_files=args.build_arg_file, fix_perms=args.fix_perms, binds=args.bind,
        mksquashfs_args=args.mksquashfs_args or "")
    build(options)
    return 0


def _env(name: str) -> str | None:
    for prefix in ("JUPYTAINER_", "APPTAINER_", "SINGULARITY_"):
        if os.environ.get(prefix + name):
            return os.environ[prefix + name]
    return None


def _env_flag(name: str) -> bool:
    return (_env(name) or "").lower() in ("1", "true", "yes")
