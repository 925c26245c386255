"""Definition text to a `Definition`: stages, then each stage's header and sections.

The rules are Apptainer's, so that a file means the same to both; where Apptainer would
silently do something surprising (ignore `%files` with odd arguments, refer to a stage that
does not exist yet), the file is rejected here with the line and the fix instead.
"""

from jupytainer.runtime.deffile.errors import located, shown
from jupytainer.runtime.deffile.header import check_bootstrap, parse_header
from jupytainer.runtime.deffile.model import Definition, Stage
from jupytainer.runtime.deffile.sections import assemble, split_blocks
from jupytainer.runtime.deffile.text import split_lines, stage_chunks, without_bom


def parse_definition(text: str, *, source: str = "<definition>") -> Definition:
    """Parse a definition as written (no `{{ NAME }}` templating); `source` names the file
    in error messages. Raises DefinitionError naming the line and the fix."""
    stages: list[Stage] = []
    hint = ""
    for first_line, chunk in stage_chunks(text):
        stage = parse_stage(chunk, first_line, source=source, hint=hint)
        if stage is not None:
            stages.append(stage)
            hint = _interrupted_script_hint(stage)

    if not stages:
        raise located(source, None, "empty definition file: it has no header and no sections; "
                      "start it with a line such as 'Bootstrap: debootstrap'")
    _check_stages(stages, source)
    return Definition(stages, text, source)


def parse_stage(chunk: str, first_line: int, *, source: str, hint: str = "") -> Stage | None:
    """One stage from its text (which starts at first_line of the file), or None when it
    holds nothing but blank and comment lines."""
    lines = split_lines(without_bom(chunk))
    numbered = [(first_line + index, line) for index, line in enumerate(lines)]
    header_lines, blocks = split_blocks(numbered)

    header, key_lines = parse_header(header_lines, source=source, hint=hint)
    check_bootstrap(header, key_lines, source=source, hint=hint)
    parts = assemble(blocks, source)
    if not header and not blocks:
        return None
    return Stage(header, parts.sections, parts.files, parts.apps, chunk, first_line, key_lines)


def _interrupted_script_hint(stage: Stage) -> str:
    """What to tell about the next stage's header if its 'Bootstrap:' line was meant for the
    script this stage ends with: such a line starts a stage wherever it is."""
    last = max([*stage.sections.values(),
                *(section for app in stage.apps.values() for section in app.sections.values())],
               key=lambda section: section.line, default=None)
    if last is None:
        return ""
    return (f" (if the 'Bootstrap:' line that starts this stage belongs to the %{last.name} "
            "script above it, indent it: a line beginning with 'Bootstrap:' starts a new stage "
            "even inside a script)")


def _check_stages(stages: list[Stage], source: str) -> None:
    """Several stages need a header each, distinct names, and `%files from` an earlier one."""
    if len(stages) > 1:
        for stage in stages:
            if stage.bootstrap is None:
                raise located(source, stage.line, "this definition has several stages (each "
                              "'Bootstrap:' line starts one) and the part starting here has no "
                              "'Bootstrap:' header: move its sections below a 'Bootstrap:' line")

    seen: dict[str, Stage] = {}
    for stage in stages:
        for group in stage.files:
            _check_files_source(group.source_stage, group.line, seen, source)
        if stage.name is not None and "{{" not in stage.name:
            if stage.name in seen:
                raise located(source, stage.header_lines["stage"], f"a stage named "
                              f"'{shown(stage.name)}' already starts on line "
                              f"{seen[stage.name].line}: give each stage its own name")
            seen[stage.name] = stage


def _check_files_source(name: str | None, number: int, earlier: dict[str, Stage],
                        source: str) -> None:
    if name is None or name in earlier or "{{" in name:
        return
    known = f"earlier stages: {shown(', '.join(earlier))}" if earlier else \
        "no earlier stage has a 'Stage:' name"
    name = shown(name)
    raise located(source, number, f"%files from {name}: no earlier stage is named '{name}' "
                  f"({known}); name the stage to copy from with 'Stage: {name}' in its header")
