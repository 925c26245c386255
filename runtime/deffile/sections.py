"""A stage's sections: lines whose first word starts with '%' open them, wherever they are.

That rule holds inside scripts and heredocs too (Apptainer has no escape for it), so the
errors here say when a line meant for a script was taken for a section.
"""

import re
from dataclasses import dataclass, field

from jupytainer.runtime.deffile.errors import DefinitionError, did_you_mean, located, shown
from jupytainer.runtime.deffile.files import parse_files_entries, split_words
from jupytainer.runtime.deffile.keywords import ALL_SECTIONS, APP_SECTIONS, STANDARD_SECTIONS
from jupytainer.runtime.deffile.model import App, FilesGroup, Section
from jupytainer.runtime.deffile.text import WHITESPACE, first_word, is_indented

NumberedLine = tuple[int, str]

_SPACE_RUN = re.compile(f"[{WHITESPACE}]+")


@dataclass
class Block:
    """A section line and the lines up to the next one, before their name is checked."""

    line: int
    heading: str
    first_in_chunk: bool
    body: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(line + "\n" for line in self.body)


def split_blocks(lines: list[NumberedLine]) -> tuple[list[NumberedLine], list[Block]]:
    """The header lines (before the first section line) and the section blocks."""
    header: list[NumberedLine] = []
    blocks: list[Block] = []
    for index, (number, line) in enumerate(lines):
        if first_word(line).startswith("%"):
            blocks.append(Block(number, line, first_in_chunk=index == 0))
        elif blocks:
            blocks[-1].body.append(line)
        else:
            header.append((number, line))
    return header, blocks


@dataclass
class StageSections:
    sections: dict[str, Section] = field(default_factory=dict)
    files: list[FilesGroup] = field(default_factory=list)
    apps: dict[str, App] = field(default_factory=dict)


def assemble(blocks: list[Block], source: str) -> StageSections:
    """Sections by name, repeated ones concatenated in file order (the last arguments given
    win), `%files` grouped by identical arguments, app sections grouped by app."""
    result = StageSections()
    previous: Block | None = None
    for block in blocks:
        name, args, has_args = _heading(block, previous, source)
        if name == "files":
            _add_files(result.files, block, args, source)
        elif name in APP_SECTIONS:
            _add_app_section(result.apps, block, name, args, source)
        else:
            _add_section(result.sections, Section(name, args, block.text(), block.line),
                         has_args)
        previous = block
    return result


def _heading(block: Block, previous: Block | None, source: str) -> tuple[str, str, bool]:
    """(lower-case name, arguments, whether a space followed the name) of a section line."""
    # Apptainer strips the whitespace around a stage's very first line only.
    line = block.heading.lstrip(WHITESPACE) if block.first_in_chunk else block.heading
    if is_indented(line):
        raise _indented(block, previous, source)

    name, space, args = line.lstrip("%").partition(" ")
    name = name.lower()
    if _SPACE_RUN.search(name):
        raise _not_a_space(block, source)
    if name not in ALL_SECTIONS:
        raise _unknown(block, name, previous, source)
    return name, args, bool(space)


def _add_section(sections: dict[str, Section], section: Section, has_args: bool) -> None:
    known = sections.get(section.name)
    if known is None:
        sections[section.name] = section
        return

    known.body += section.body
    if has_args:
        known.args = section.args


def _add_files(groups: list[FilesGroup], block: Block, args: str, source: str) -> None:
    entries = parse_files_entries(block.text())
    for group in groups:
        if group.args == args:
            group.entries.extend(entries)
            return
    groups.append(FilesGroup(args, _files_source(args, block.line, source), entries,
                             block.line))


def _files_source(args: str, number: int, source: str) -> str | None:
    """None for a copy from the host, or the stage named by `from STAGE`."""
    words = split_words(args.split("#", 1)[0])
    if not words:
        return None
    if len(words) == 2 and words[0].lower() == "from":
        return words[1]
    raise located(source, number, f"'%files {shown(args.strip())}' is not understood: write "
                  "'%files' to copy from the host, or '%files from STAGE' to copy from an "
                  "earlier stage")


def _add_app_section(apps: dict[str, App], block: Block, name: str, args: str,
                     source: str) -> None:
    words = args.split(None, 1)
    if not words:
        raise located(source, block.line, f"%{name} needs the name of its app: write "
                      f"'%{name} APPNAME' (the app is then run with --app APPNAME)")

    app = apps.setdefault(words[0], App(words[0], {}, block.line))
    rest = words[1] if len(words) > 1 else ""
    _add_section(app.sections, Section(name, rest, block.text(), block.line), bool(rest))


def _indented(block: Block, previous: Block | None, source: str) -> DefinitionError:
    stripped = block.heading.strip(WHITESPACE)
    name = stripped.lstrip("%").split(" ", 1)[0].lower()
    reword = (f"if it belongs to the script of {_where(previous)}, reword it so that its "
              "first word does not start with '%'")
    if name not in ALL_SECTIONS:
        fix = reword
    elif previous is None:
        fix = f"write '%{name}' at the start of the line"
    else:
        fix = f"write '%{name}' at the start of the line to start a section, or {reword}"
    return located(source, block.line, f"'{shown(stripped)}' is taken for a section because "
                   "its first word starts with '%' (even inside a script or heredoc), but a "
                   f"section line must not be indented: {fix}")


def _not_a_space(block: Block, source: str) -> DefinitionError:
    heading = block.heading.lstrip(WHITESPACE)
    fixed = _SPACE_RUN.sub(" ", heading, count=1).rstrip(WHITESPACE)
    return located(source, block.line, f"invalid section name in '{shown(heading)}': a "
                   f"section's name ends at the first space, not a tab; write '{shown(fixed)}'")


def _unknown(block: Block, name: str, previous: Block | None,
             source: str) -> DefinitionError:
    message = f"unknown section %{shown(name)}"
    suggestion = did_you_mean(name, ALL_SECTIONS, "%")
    if suggestion:
        message += suggestion
    elif previous is not None:
        message += (": a line whose first word starts with '%' begins a new section, even "
                    "inside a script or heredoc; if this line belongs to "
                    f"{_where(previous)}, reword it so that its first word does not start "
                    "with '%'")
    else:
        message += (f": the sections are %{', %'.join(STANDARD_SECTIONS)}, and "
                    f"%{' NAME, %'.join(APP_SECTIONS)} NAME for apps")
    return located(source, block.line, message)


def _where(block: Block | None) -> str:
    if block is None:
        return "the section above"
    name = block.heading.strip(WHITESPACE).split(" ", 1)[0]
    return f"the {shown(name)} section of line {block.line}"
