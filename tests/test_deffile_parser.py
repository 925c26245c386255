"""Parser rules that the corpus does not show file by file: stage boundaries, section
arguments, the model's helpers."""

import pytest

from jupytainer.runtime.deffile import DefinitionError, parse_definition


def test_only_an_unindented_bootstrap_line_with_its_colon_starts_a_stage():
    text = ("Bootstrap: docker\nFrom: debian:12\n%post\n    Bootstrap: not a stage\n"
            "Bootstrap : not a stage either\n")

    definition = parse_definition(text)

    assert len(definition.stages) == 1
    assert definition.final.sections["post"].body == \
        "    Bootstrap: not a stage\nBootstrap : not a stage either\n"


def test_later_header_key_overwrites_an_earlier_one():
    definition = parse_definition("Bootstrap: docker\nFrom: debian:11\nFROM: debian:12\n")

    assert definition.final.header["from"] == "debian:12"
    assert definition.final.header_lines["from"] == 3


def test_header_value_keeps_its_case_and_key_is_lower_cased():
    stage = parse_definition("BootStrap: docker\nFrom: Registry.Example/Image:Tag\n").final

    assert stage.header == {"bootstrap": "docker", "from": "Registry.Example/Image:Tag"}


def test_bootstrap_value_is_case_sensitive():
    with pytest.raises(DefinitionError, match="unknown bootstrap agent 'Docker' "
                       r"\(did you mean docker\?\)"):
        parse_definition("Bootstrap: Docker\nFrom: debian:12\n")


def test_trimmed_args_drop_the_comment():
    stage = parse_definition("Bootstrap: scratch\n%post -c /bin/bash # why\n").final

    assert stage.sections["post"].args == "-c /bin/bash # why"
    assert stage.sections["post"].trimmed_args() == "-c /bin/bash"


def test_last_section_with_arguments_wins_and_bare_repeat_keeps_them():
    stage = parse_definition("Bootstrap: scratch\n%test -e\n%test -x\n%test\n").final

    assert stage.sections["test"].args == "-x"


def test_section_with_empty_body_exists():
    stage = parse_definition("Bootstrap: scratch\n%runscript\n").final

    assert stage.sections["runscript"].body == ""


def test_final_stage_and_lookup_by_name():
    definition = parse_definition("Bootstrap: scratch\nStage: one\n\nBootstrap: scratch\n")

    assert definition.stage("one") is definition.stages[0]
    assert definition.final is definition.stages[1]
    assert definition.stage("two") is None


def test_default_source_names_the_definition_in_errors():
    with pytest.raises(DefinitionError, match=r"^<definition> line 2: unknown section %pots"):
        parse_definition("Bootstrap: scratch\n%pots\n")


def test_templated_values_are_not_checked_before_templating():
    text = ("Bootstrap: {{ AGENT }}\nStage: {{ NAME }}\n\nBootstrap: scratch\n"
            "%files from {{ NAME }}\n    /a\n")

    definition = parse_definition(text)

    assert definition.final.files[0].source_stage == "{{ NAME }}"


def test_files_placeholder_with_spaces_stays_one_word():
    stage = parse_definition("Bootstrap: scratch\n%files\n    {{ SRC }} /opt/{{ DST }}\n").final

    assert stage.files[0].entries == [("{{ SRC }}", "/opt/{{ DST }}")]


def test_app_section_extra_words_are_kept_as_its_arguments():
    app = parse_definition("Bootstrap: scratch\n%apprun tool extra words\n    run\n").final \
        .apps["tool"]

    assert app.sections["apprun"].args == "extra words"
