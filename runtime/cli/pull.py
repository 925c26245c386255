"""`jupytainer pull [TARGET] SOURCE`: an image from a registry, OCI layout or archive saved
as a SIF file (or, with --sandbox, a directory), built as `jupytainer build` would."""

import argparse
import getpass
import os
from pathlib import Path

from jupytainer.runtime.errors import JupytainerError

_PULLABLE = ("docker://", "oci:", "oci-archive:", "docker-archive:", "oras://")


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.usage = "jupytainer pull [options] [TARGET] SOURCE"
    parser.add_argument("images", nargs="+", metavar="[TARGET] SOURCE",
                        help="where to write the image (default: NAME_TAG.sif in --dir), and "
                        "the source: docker://, oci:, oci-archive:, docker-archive: or oras://")
    parser.add_argument("-F", "--force", action="store_true",
                        help="overwrite an existing target")
    parser.add_argument("--sandbox", action="store_true",
                        help="write a sandbox directory instead of a SIF file")
    parser.add_argument("--dir", default=".", help="the directory a default target goes to")
    parser.add_argument("--arch", help="the architecture to pull (default: this machine's)")
    parser.add_argument("--docker-login", action="store_true",
                        help="ask for a registry user name and password")
    parser.add_argument("--nohttps", action="store_true",
                        help="talk plain HTTP to a registry that is not on this machine")
    parser.add_argument("--disable-cache", action="store_true",
                        help="do not keep downloaded layers in the cache")


def run(args: argparse.Namespace) -> int:
    from jupytainer.runtime.build.builder import build
    from jupytainer.runtime.build.options import BuildOptions

    target, source = _target_and_source(args)
    _check_arch(args.arch)
    if os.path.lexists(target) and not args.force:
        raise JupytainerError(f"image file already exists: '{target}' - will not overwrite "
                              "(use --force to replace it)")
    if source.startswith("oras://"):
        from jupytainer.runtime.oci.oras import pull_sif

        login = ask_login() if args.docker_login else None
        pull_sif(source, target, login=login, nohttps=args.nohttps)
        return 0
    _export_settings(args)
    build(BuildOptions(target=target, source=source, sandbox=args.sandbox, force=args.force,
                       notest=True))
    return 0


def _target_and_source(args: argparse.Namespace) -> tuple[Path, str]:
    if len(args.images) > 2:
        raise JupytainerError("pull takes at most two arguments: [TARGET] SOURCE")
    source = args.images[-1]
    if not source.startswith(_PULLABLE):
        raise JupytainerError(f"cannot pull '{source}': give a source starting with "
                              f"{', '.join(_PULLABLE)}")
    if len(args.images) == 2:
        return Path(os.path.abspath(args.images[0])), source
    return Path(os.path.abspath(args.dir)) / default_name(source, args.sandbox), source


def default_name(source: str, sandbox: bool = False) -> str:
    """`docker://ghcr.io/org/tool:1.2` -> `tool_1.2.sif`, as Apptainer names pulls."""
    from jupytainer.runtime.oci.reference import parse_reference

    if source.startswith(("docker://", "oras://")):
        image = parse_reference(source.partition("://")[2])
        name = image.repository.rsplit("/", 1)[-1]
        suffix = image.tag or image.digest.partition(":")[2][:12]
        stem = f"{name}_{suffix}"
    else:
        stem = Path(source.partition(":")[2].split(":")[0]).name.removesuffix(".tar")
    return stem if sandbox else f"{stem}.sif"


def _check_arch(arch: str | None) -> None:
    from jupytainer.runtime.image import host_arch
    from jupytainer.runtime.oci.manifest import parse_platform

    if arch and parse_platform(arch).architecture != host_arch():
        # Limitation: the build path unpacks for the host's architecture only; pulling
        # another architecture's image needs the bootstrap agent to pass --arch on.
        raise JupytainerError(f"pulling for {arch} on a {host_arch()} machine is not supported "
                              "yet: pull on a machine of that architecture")


def _export_settings(args: argparse.Namespace) -> None:
    """The build's OCI agent reads these settings from the environment, as Apptainer's
    variables spell them."""
    if args.docker_login:
        username, password = ask_login()
        os.environ["APPTAINER_DOCKER_USERNAME"] = username
        os.environ["APPTAINER_DOCKER_PASSWORD"] = password
    if args.nohttps:
        os.environ["APPTAINER_NOHTTPS"] = "1"
    if args.disable_cache:
        os.environ["APPTAINER_DISABLE_CACHE"] = "1"


def ask_login() -> tuple[str, str]:
    """--docker-login: the user name and password, asked for on the terminal."""
    return input("Enter Docker Username: "), getpass.getpass("Enter Docker Password: ")
