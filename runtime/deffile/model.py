"""A parsed definition file: its stages, each with a header, sections, `%files` groups and apps.

Line numbers are the file's own (1-based), so that whoever acts on a part of the definition
(the builder) can point the user at it.
"""

from dataclasses import dataclass, field
from typing import Any

from jupytainer.runtime.deffile.files import parse_files_entries
from jupytainer.runtime.deffile.labels import parse_labels


@dataclass
class Section:
    """One section, repeated occurrences concatenated in file order."""

    name: str
    """Lower-case name without the '%': `post`, `apprun`..."""
    args: str
    """The header line after the name and one space, verbatim (a `# comment` included)."""
    body: str
    """The lines after the header line, verbatim, each ending with a newline."""
    line: int
    """Where the first occurrence's header line is."""

    def trimmed_args(self) -> str:
        """The arguments without a trailing comment: what `%post -c /bin/bash` passes on."""
        return self.args.split("#", 1)[0].strip()


@dataclass
class FilesGroup:
    """The entries of every `%files` section that has the same arguments."""

    args: str
    source_stage: str | None
    """The earlier stage copied from (`%files from NAME`), or None for the host."""
    entries: list[tuple[str, str]]
    """(source, destination); an empty destination means the source's own path."""
    line: int


@dataclass
class App:
    """A SCIF app: the `%app*` sections that name it."""

    name: str
    sections: dict[str, Section]
    """Keyed by section name (`apprun`, `appinstall`...), in first-appearance order."""
    line: int

    def labels(self) -> dict[str, str]:
        return parse_labels(self.sections["applabels"].body) if "applabels" in self.sections \
            else {}

    def files(self) -> list[tuple[str, str]]:
        """`%appfiles` entries, copied into the app's own directory."""
        return parse_files_entries(self.sections["appfiles"].body) \
            if "appfiles" in self.sections else []


@dataclass
class Stage:
    """One build stage: what a `Bootstrap:` line starts (or a definition without a header)."""

    header: dict[str, str]
    """Lower-case keys; values as written, with a `# comment` cut off."""
    sections: dict[str, Section]
    """Standard sections (not `%files`, not apps), keyed by lower-case name."""
    files: list[FilesGroup]
    apps: dict[str, App]
    raw: str
    """This stage's text exactly as in the (templated) file."""
    line: int
    header_lines: dict[str, int] = field(default_factory=dict)
    """Where each header key was (last) set, to point errors about its value at it."""

    @property
    def name(self) -> str | None:
        return self.header.get("stage")

    @property
    def bootstrap(self) -> str | None:
        return self.header.get("bootstrap")

    def labels(self) -> dict[str, str]:
        return parse_labels(self.sections["labels"].body) if "labels" in self.sections else {}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the parse (without the raw text), for debugging and tests."""
        return {
            "name": self.name, "bootstrap": self.bootstrap, "line": self.line,
            "header": self.header, "header_lines": self.header_lines,
            "sections": {name: _section_dict(section) for name, section in self.sections.items()},
            "files": [_files_dict(group) for group in self.files],
            "apps": {name: _app_dict(app) for name, app in self.apps.items()},
            "labels": self.labels(),
        }


@dataclass
class Definition:
    """A whole definition file; only the last stage becomes the image."""

    stages: list[Stage]
    raw: str
    """The full (templated) text, stored in the image: the input itself when nothing was
    templated, including its byte-order mark and line endings."""
    source: str

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.name == name), None)

    def raw_bytes(self) -> bytes:
        """The raw text as the file's bytes (bytes that were not UTF-8 come back unchanged)."""
        return self.raw.encode("utf-8", "surrogateescape")

    def to_dict(self) -> dict[str, Any]:
        return {"stages": [stage.to_dict() for stage in self.stages]}


def _section_dict(section: Section) -> dict[str, Any]:
    return {"line": section.line, "args": section.args, "body": section.body}


def _files_dict(group: FilesGroup) -> dict[str, Any]:
    return {"line": group.line, "args": group.args, "source_stage": group.source_stage,
            "entries": [list(entry) for entry in group.entries]}


def _app_dict(app: App) -> dict[str, Any]:
    return {"line": app.line,
            "sections": {name: _section_dict(section) for name, section in app.sections.items()},
            "labels": app.labels(), "files": [list(entry) for entry in app.files()]}
