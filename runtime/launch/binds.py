"""Bind specifications as Apptainer writes them: `src[:dst[:ro|rw]]`, comma separated."""

import os

from jupytainer.runtime.errors import JupytainerError


class Bind:
    """One bind mount: a host source, a container destination, read-only or not."""

    __slots__ = ("destination", "read_only", "source")

    def __init__(self, source: str, destination: str, read_only: bool = False) -> None:
        self.source = source
        self.destination = destination
        self.read_only = read_only

    def __repr__(self) -> str:
        mode = "ro" if self.read_only else "rw"
        return f"Bind({self.source!r} -> {self.destination!r}, {mode})"


def split_escaped(text: str, separator: str) -> list[str]:
    """Split text at separator, except where a backslash escapes it (`\\,`, `\\:`)."""
    parts, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in ",:":
            current.append(text[index:index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return text.replace("\\,", ",").replace("\\:", ":")


def parse_bind(spec: str) -> Bind:
    """One `src[:dst[:opts]]` item; opts is a comma-free list of ro/rw."""
    fields = [_unescape(part) for part in split_escaped(spec, ":")]
    if not fields[0] or len(fields) > 3:
        raise JupytainerError(f"bind '{spec}' is not src[:dst[:ro|rw]]: fix the -B option")
    source = fields[0]
    destination = fields[1] if len(fields) > 1 and fields[1] else source
    option = fields[2] if len(fields) > 2 else "rw"
    if option not in ("ro", "rw"):
        raise JupytainerError(f"bind option '{option}' in '{spec}' is unknown: use ro or rw")
    if not destination.startswith("/"):
        raise JupytainerError(f"bind destination '{destination}' must be an absolute path")
    return Bind(source, os.path.normpath(destination), option == "ro")


def parse_binds(specs: list[str]) -> list[Bind]:
    """Every bind of a list of (possibly comma separated) specifications, in order."""
    binds = []
    for spec in specs:
        for item in split_escaped(spec, ","):
            if item.strip():
                binds.append(parse_bind(item.strip()))
    return binds


def binds_from_environment(environ: dict[str, str]) -> list[str]:
    """The bind lists of APPTAINER_BIND and APPTAINER_BINDPATH (or their JUPYTAINER_ and
    legacy SINGULARITY_ spellings, in that order of preference)."""
    specs = []
    for name in ("BIND", "BINDPATH"):
        for prefix in ("APPTAINER_", "JUPYTAINER_", "SINGULARITY_"):
            if environ.get(prefix + name):
                specs.append(environ[prefix + name])
                break
    return specs
