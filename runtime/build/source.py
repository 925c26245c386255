"""What `jupytainer build` starts from: a definition file, an existing image (SIF or
sandbox), or a URI, each turned into a Definition."""

import os
from pathlib import Path

from jupytainer.runtime.build.options import BuildOptions
from jupytainer.runtime.deffile import load_definition, parse_build_args, parse_definition
from jupytainer.runtime.deffile.model import Definition
from jupytainer.runtime.errors import JupytainerError

# URI scheme -> Bootstrap value; "//" follows the schemes that have it.
SCHEMES = {"docker://": "docker", "docker-archive:": "docker-archive",
           "docker-daemon:": "docker-daemon", "oci-archive:": "oci-archive", "oci:": "oci",
           "library://": "library", "shub://": "shub", "oras://": "oras"}
IMAGE_MAGICS = ((32, b"SIF_MAGIC"), (0, b"hsqs"))


def is_image(source: str) -> bool:
    """An existing SIF file, squashfs file or directory (sandbox)."""
    path = Path(source)
    if path.is_dir():
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return any(head[offset:offset + len(magic)] == magic for offset, magic in IMAGE_MAGICS)


def load_source(options: BuildOptions) -> Definition:
    source = options.source
    for scheme, bootstrap in SCHEMES.items():
        if source.startswith(scheme):
            return _synthetic(bootstrap, source[len(scheme):], source)
    if is_image(source):
        return _synthetic("localimage", os.path.abspath(source), source)
    if not os.path.exists(source):
        raise JupytainerError(f"build source {source} does not exist: give a definition "
                              "file, a SIF image, a sandbox directory or a URI such as "
                              "docker://debian:bookworm")
    if not os.path.isfile(source):
        raise JupytainerError(f"build source {source} is not a regular file")
    return load_definition(source, build_args=parse_build_args(options.build_args),
                           build_arg_files=options.build_arg_files or None)


def _synthetic(bootstrap: str, reference: str, source: str) -> Definition:
    """The definition Apptainer makes for a source given on the command line."""
    return parse_definition(f"bootstrap: {bootstrap}\nfrom: {reference}\n\n", source=source)
