"""`{{ NAME }}` placeholders, filled from `--build-arg`, `--build-arg-file` and `%arguments`.

Each stage is templated on its own text, with its own `%arguments` as defaults, and the
results are joined: what the image stores is the input with only the placeholders replaced.
"""

import os
import re
from collections.abc import Callable, Iterable

from jupytainer.runtime import log
from jupytainer.runtime.deffile.errors import DefinitionError, did_you_mean, located, shown
from jupytainer.runtime.deffile.model import Stage
from jupytainer.runtime.deffile.parser import parse_definition
from jupytainer.runtime.deffile.text import split_lines, stage_chunks

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# A placeholder is left alone when a '#' that is not a '#!' comes before it on its line:
# commented-out lines keep their placeholders, shebang lines have theirs filled.
_COMMENT_BEFORE = re.compile(r"#[^!]", re.DOTALL)


def parse_build_args(pairs: Iterable[str]) -> dict[str, str]:
    """`--build-arg K=V` values, a later one winning; a pair without '=' is an error."""
    values = {}
    for pair in pairs:
        key, value = _key_value(pair)
        if key is None:
            raise DefinitionError(f'--build-arg "{shown(pair)}" is not a KEY=VALUE pair: write '
                                  f"--build-arg {shown(pair.strip()) or 'NAME'}=VALUE")
        if not key:
            raise DefinitionError(f'--build-arg "{shown(pair)}" has no name before the "=": write '
                                  "--build-arg NAME=VALUE")
        values[key] = value
    return values


def read_build_arg_file(path: str | os.PathLike) -> dict[str, str]:
    """KEY=VALUE lines; blank and `#` lines are skipped, other lines without '=' warned about."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            lines = split_lines(handle.read())
    except OSError as failure:
        raise DefinitionError(f"cannot read build arg file {path}: "
                              f"{failure.strerror or failure}") from None

    def complain(number: int, line: str) -> None:
        log.warning(f"{path} line {number}: skipping '{shown(line)}': not a KEY=VALUE pair")

    return _read_pairs(lines, 1, complain)


def collect_build_args(build_args: dict[str, str] | None = None,
                       build_arg_files: Iterable[str | os.PathLike] | None = None
                       ) -> dict[str, str]:
    """Build args by precedence: `--build-arg` over the files, a later file over an earlier."""
    values: dict[str, str] = {}
    for path in build_arg_files or ():
        values.update(read_build_arg_file(path))
    values.update(build_args or {})
    return values


def render_definition(text: str, build_args: dict[str, str] | None = None,
                      build_arg_files: Iterable[str | os.PathLike] | None = None, *,
                      source: str = "<definition>") -> str:
    """The definition with its placeholders filled; everything else byte for byte as given.

    The text must parse before templating (as Apptainer requires). An undefined placeholder
    is an error; a build arg that no placeholder uses is a warning.
    """
    stages = {stage.line: stage for stage in parse_definition(text, source=source).stages}
    values = collect_build_args(build_args, build_arg_files)

    rendered, used = [], set()
    for first_line, chunk in stage_chunks(text):
        stage = stages.get(first_line)
        if stage is None:
            # Comments before the first stage belong to no stage and are kept as written.
            rendered.append(chunk)
            continue
        filled, names = substitute(chunk, values, read_defaults(stage, source), source=source,
                                   first_line=first_line)
        rendered.append(filled)
        used |= names

    _warn_unused([key for key in values if key not in used], source)
    return "".join(rendered)


def read_defaults(stage: Stage, source: str) -> dict[str, str]:
    """A stage's `%arguments` (KEY=VALUE lines); lines that are not pairs are warned about."""
    section = stage.sections.get("arguments")
    if section is None:
        return {}

    def complain(number: int, line: str) -> None:
        log.warning(f"{source} line {number}: skipping '{shown(line)}' in %arguments: write "
                    "NAME=VALUE")

    return _read_pairs(section.body.split("\n"), section.line + 1, complain)


def substitute(text: str, values: dict[str, str], defaults: dict[str, str], *, source: str,
               first_line: int = 1) -> tuple[str, set[str]]:
    """(text with its placeholders filled, names used); values win over defaults.

    A value may hold placeholders itself: they are filled once, from the same values and
    defaults; one still left after that is an error rather than text in the image.
    """
    pieces, used, position = [], set(), 0
    for match in _PLACEHOLDER.finditer(text):
        line_start = text.rfind("\n", position, match.start())
        if _COMMENT_BEFORE.search(text, max(line_start, position), match.start()):
            continue

        name = match.group(1)
        number = first_line + text.count("\n", 0, match.start())
        value = values.get(name, defaults.get(name))
        if value is None:
            raise _undefined(name, [*values, *defaults], number, source)
        value = _fill_nested(value, values, defaults, used)
        _check_filled(name, value, values, defaults, number, source)
        pieces += [text[position:match.start()], value]
        used.add(name)
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces), used


def _fill_nested(value: str, values: dict[str, str], defaults: dict[str, str],
                 used: set[str]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        found = values.get(name, defaults.get(name))
        if found is None:
            return match.group(0)
        used.add(name)
        return found

    return _PLACEHOLDER.sub(fill, value)


def _check_filled(name: str, value: str, values: dict[str, str], defaults: dict[str, str],
                  number: int, source: str) -> None:
    left = _PLACEHOLDER.search(value)
    if left is None:
        return
    inner = left.group(1)
    if inner in values or inner in defaults:
        raise located(source, number, f"{{{{ {name} }}}} needs {{{{ {inner} }}}} two levels "
                      "deep, but an argument's value may refer to other arguments one level "
                      f"deep only: write {inner}'s value into {name}'s default")
    raise _undefined(inner, [*values, *defaults], number, source)


def _read_pairs(lines: list[str], first_number: int,
                complain: Callable[[int, str], None]) -> dict[str, str]:
    """KEY=VALUE lines, a later key winning; blank and `#` lines are skipped, and the others
    are handed to complain(line number, line) and skipped."""
    values = {}
    for number, line in enumerate(lines, start=first_number):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, value = _key_value(text)
        if not key:
            complain(number, text)
            continue
        values[key] = value
    return values


def _key_value(text: str) -> tuple[str | None, str]:
    """(key, value) split at the first '=' and stripped; key None when there is no '='."""
    if "=" not in text:
        return None, ""
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _undefined(name: str, known: list[str], number: int, source: str) -> DefinitionError:
    return located(source, number, f"{{{{ {name} }}}} is not defined"
                   f"{did_you_mean(name, dict.fromkeys(known))}: pass --build-arg "
                   f"{name}=VALUE (or --build-arg-file), or give a default in this stage's "
                   f"%arguments section (each stage has its own) as {name}=VALUE")


def _warn_unused(unused: list[str], source: str) -> None:
    # Apptainer stops the build here unless --warn-unused-build-args is given; a warning
    # lets one set of build args serve several definition files.
    if unused:
        log.warning(f"unused build args: {shown(', '.join(unused))} (no placeholder in {source} "
                    "uses them: check their spelling)")
