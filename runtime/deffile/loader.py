"""A definition file from disk: read, templated stage by stage, parsed."""

import os

from jupytainer.runtime.deffile.errors import DefinitionError
from jupytainer.runtime.deffile.model import Definition
from jupytainer.runtime.deffile.parser import parse_definition
from jupytainer.runtime.deffile.templating import render_definition


def load_definition(path: str | os.PathLike, build_args: dict[str, str] | None = None,
                    build_arg_files: list[str | os.PathLike] | None = None) -> Definition:
    """The parsed, templated definition; its `raw_bytes()` are the file's bytes whenever
    there was nothing to template. Errors name the path as given."""
    source = os.fspath(path)
    text = read_definition_text(source)
    rendered = render_definition(text, build_args, build_arg_files, source=source)
    # Limitation: a build arg whose value holds newlines shifts the lines after it, so an
    # error found only after templating names a line of the templated text.
    return parse_definition(rendered, source=source)


def read_definition_text(path: str) -> str:
    """The file's text; bytes that are not UTF-8 survive as surrogates and encode back."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as failure:
        raise DefinitionError(f"cannot read definition file {path}: "
                              f"{failure.strerror or failure}") from None

    if b"\0" in data:
        raise DefinitionError(f"{path} is not a text file (it holds NUL bytes): give a "
                              "definition file, or an image as a SIF file or sandbox directory")
    return data.decode("utf-8", "surrogateescape")
