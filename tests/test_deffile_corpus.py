"""Definition files as written in the wild, each with its expected parse or error message.

Good cases: tests/data/deffiles/good/NAME.def and the parse it must give, NAME.json. Bad
cases: tests/data/deffiles/bad/NAME.def and the one-line message it must raise, NAME.err.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from jupytainer.runtime.deffile import DefinitionError, load_definition

CORPUS = Path(__file__).parent / "data" / "deffiles"


@dataclass
class Good:
    name: str
    build_args: dict[str, str] = field(default_factory=dict)
    build_arg_files: list[str] = field(default_factory=list)
    templated: bool = False

    def __str__(self) -> str:
        return self.name


GOOD = [
    Good("crlf_line_endings"),
    Good("utf8_byte_order_mark"),
    Good("no_final_newline"),
    Good("tabs_in_header_and_bodies"),
    Good("comment_preamble_before_bootstrap"),
    Good("bootstrap_without_space"),
    Good("case_insensitive_names"),
    Good("repeated_sections_concatenated"),
    Good("files_grouped_by_args"),
    Good("files_quoted_paths_with_spaces"),
    Good("heredoc_percent_line_starts_section"),
    Good("post_with_interpreter"),
    Good("section_args_with_comments"),
    Good("multistage_named_stages"),
    Good("no_header_single_stage"),
    Good("app_sections_with_names"),
    Good("labels_with_spaces_and_tabs"),
    Good("header_hash_truncates_value"),
    Good("header_continuation_lines"),
    Good("bootstrap_line_in_script_starts_stage"),
    Good("templating_comment_lines", templated=True),
    Good("templating_nested_defaults", {"RELEASE": "13"}, templated=True),
    Good("templating_build_arg_precedence", {"FROM_COMMAND_LINE": "command line"},
         ["templating_build_arg_precedence.args"], templated=True),
    Good("templating_per_stage_arguments", templated=True),
    Good("templating_unused_build_arg", {"VERSION": "12", "VERSOIN": "13"}, templated=True),
]

BAD = [
    "unknown_section_typo",
    "percent_line_in_heredoc_unknown_section",
    "indented_percent_line_in_heredoc",
    "indented_section_line",
    "post_tab_before_args",
    "section_name_with_trailing_tab",
    "header_line_without_colon",
    "header_line_without_colon_at_all",
    "header_line_without_colon_not_a_keyword",
    "unknown_header_keyword",
    "unknown_bootstrap_agent",
    "bootstrap_without_value",
    "app_section_without_name",
    "empty_file",
    "comments_and_blank_lines_only",
    "json_input",
    "json_input_one_line",
    "bootstrap_line_in_heredoc",
    "multistage_sections_before_first_bootstrap",
    "files_from_unknown_stage",
    "files_from_later_stage",
    "files_args_not_understood",
    "duplicate_stage_names",
    "templating_undefined_argument",
    "templating_undefined_argument_typo",
    "templating_nesting_too_deep",
    "templating_argument_in_earlier_stage_only",
]


def load_good(case: Good):
    folder = CORPUS / "good"
    return load_definition(folder / f"{case.name}.def", case.build_args,
                           [folder / name for name in case.build_arg_files])


@pytest.mark.parametrize("case", GOOD, ids=str)
def test_good_definition_parses_as_expected(case):
    expected = json.loads((CORPUS / "good" / f"{case.name}.json").read_text())

    assert load_good(case).to_dict() == expected


@pytest.mark.parametrize("case", [case for case in GOOD if not case.templated], ids=str)
def test_stored_definition_is_the_input_byte_for_byte(case):
    path = CORPUS / "good" / f"{case.name}.def"

    assert load_good(case).raw_bytes() == path.read_bytes()


@pytest.mark.parametrize("name", BAD)
def test_bad_definition_raises_its_message(name, monkeypatch):
    monkeypatch.chdir(CORPUS / "bad")
    expected = (CORPUS / "bad" / f"{name}.err").read_text().rstrip("\n")

    with pytest.raises(DefinitionError) as raised:
        load_definition(f"{name}.def")

    assert str(raised.value) == expected
    assert "\n" not in str(raised.value)


def test_every_corpus_file_has_a_row_and_an_expectation():
    good = {case.name for case in GOOD}
    assert {path.stem for path in (CORPUS / "good").glob("*.def")} == good
    assert {path.stem for path in (CORPUS / "good").glob("*.json")} == good
    assert {path.stem for path in (CORPUS / "bad").glob("*.def")} == set(BAD)
    assert {path.stem for path in (CORPUS / "bad").glob("*.err")} == set(BAD)
