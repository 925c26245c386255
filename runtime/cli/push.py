"""`jupytainer push IMAGE.sif oras://REGISTRY/REPO:TAG`: a SIF file stored in an OCI
registry as an ORAS artifact, as `apptainer push` does."""

import argparse
from pathlib import Path

from jupytainer.runtime import log


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("image", help="the SIF file to upload")
    parser.add_argument("uri", help="where to: oras://REGISTRY/REPOSITORY:TAG")
    parser.add_argument("--docker-login", action="store_true",
                        help="ask for a registry user name and password")
    parser.add_argument("--nohttps", action="store_true",
                        help="talk plain HTTP to a registry that is not on this machine")


def run(args: argparse.Namespace) -> int:
    from jupytainer.runtime.cli.pull import ask_login
    from jupytainer.runtime.oci.oras import push_sif

    login = ask_login() if args.docker_login else None
    digest = push_sif(Path(args.image), args.uri, login=login, nohttps=args.nohttps)
    log.info(f"Upload complete: {args.uri} ({digest})")
    return 0
