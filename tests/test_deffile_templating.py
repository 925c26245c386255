"""`{{ NAME }}` templating: where values come from, which placeholders are filled, and what
is said about undefined and unused arguments."""

import pytest

from jupytainer.runtime.deffile import DefinitionError, load_definition, parse_build_args, \
    render_definition

HEADER = "Bootstrap: docker\nFrom: debian:12\n"


def render(body: str, build_args=None, build_arg_files=None) -> str:
    return render_definition(HEADER + body, build_args, build_arg_files, source="test.def")


def test_build_arg_beats_build_arg_file_which_beats_arguments(tmp_path):
    arg_file = tmp_path / "args"
    arg_file.write_text("B=file\nC=file\n")
    body = "%arguments\n    A=default\n    B=default\n    C=default\n%post\n    {{A}} {{B}} {{C}}\n"

    rendered = render(body, {"C": "command line"}, [arg_file])

    assert rendered.endswith("    default file command line\n")


def test_later_build_arg_file_beats_earlier_one(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_text("A=first\n")
    second.write_text("A=second\n")

    assert render("%post\n    {{ A }}\n", None, [first, second]).endswith("    second\n")


def test_build_arg_splits_at_the_first_equals_and_keeps_quotes():
    assert parse_build_args(['A="x=y"', " B = spaced ", "A=last"]) == \
        {"A": "last", "B": "spaced"}
    assert parse_build_args(['Q="a b"']) == {"Q": '"a b"'}


def test_build_arg_without_equals_is_an_error():
    with pytest.raises(DefinitionError, match='--build-arg "VERSION" is not a KEY=VALUE pair: '
                       "write --build-arg VERSION=VALUE"):
        parse_build_args(["VERSION"])


def test_build_arg_without_name_is_an_error():
    with pytest.raises(DefinitionError, match='has no name before the "="'):
        parse_build_args(["=12"])


def test_build_arg_file_skips_comments_and_warns_about_lines_that_are_not_pairs(tmp_path,
                                                                                 capsys):
    arg_file = tmp_path / "args"
    arg_file.write_text("# a comment\n\nA=1\nnot a pair\n")

    assert render("%post\n    {{ A }}\n", None, [arg_file]).endswith("    1\n")
    assert f"WARNING: {arg_file} line 4: skipping 'not a pair': not a KEY=VALUE pair" \
        in capsys.readouterr().err


def test_missing_build_arg_file_is_an_error(tmp_path):
    with pytest.raises(DefinitionError, match="cannot read build arg file .*/absent: "
                       "No such file or directory"):
        render("%post\n", None, [tmp_path / "absent"])


def test_arguments_line_that_is_not_a_pair_is_warned_about_and_skipped(capsys):
    rendered = render("%arguments\n    A=1\n    oops\n%post\n    {{ A }}\n")

    assert rendered.endswith("    1\n")
    assert "WARNING: test.def line 5: skipping 'oops' in %arguments: write NAME=VALUE" \
        in capsys.readouterr().err


def test_unused_build_arg_is_a_warning_naming_it(capsys):
    rendered = render("%post\n    {{ A }}\n", {"A": "1", "AA": "2"})

    assert rendered.endswith("    1\n")
    assert "WARNING: unused build args: AA (no placeholder in test.def uses them" \
        in capsys.readouterr().err


def test_build_arg_used_only_inside_a_default_is_not_unused(capsys):
    render("%arguments\n    TAG=v{{ RELEASE }}\n%post\n    {{ TAG }}\n", {"RELEASE": "2"})

    assert "unused" not in capsys.readouterr().err


def test_placeholder_after_a_comment_hash_is_left_alone():
    body = "%post\n    # {{ A }}\n    echo x # {{ A }}\n    echo {{ A }}\n"

    assert render(body, {"A": "1"}).endswith("    # {{ A }}\n    echo x # {{ A }}\n    echo 1\n")


def test_placeholder_on_a_shebang_line_is_filled():
    assert render("%runscript\n#!/bin/{{ SH }}\n", {"SH": "bash"}).endswith("#!/bin/bash\n")


def test_placeholder_right_after_a_hash_is_filled_as_apptainer_does():
    # Apptainer's comment test needs a character after the '#' and before the placeholder.
    assert render("%post\n    echo a#{{ A }}\n", {"A": "1"}).endswith("    echo a#1\n")


def test_placeholder_spacing_does_not_matter():
    assert render("%post\n    {{A}} {{   A }}\n", {"A": "1"}).endswith("    1 1\n")


def test_comments_before_the_first_stage_are_never_templated():
    text = "#!/bin/{{ X }}\n" + HEADER

    assert render_definition(text, {}) == text


def test_text_without_placeholders_is_returned_unchanged_even_with_crlf_and_bom():
    text = "\ufeffBootstrap: docker\r\nFrom: debian:12\r\n%post\r\n    echo hi"

    assert render_definition(text, {}) == text


def test_templating_keeps_crlf_line_endings():
    text = "Bootstrap: docker\r\nFrom: debian:{{ V }}\r\n%post\r\n    echo {{ V }}\r\n"

    assert render_definition(text, {"V": "12"}) == \
        "Bootstrap: docker\r\nFrom: debian:12\r\n%post\r\n    echo 12\r\n"


def test_undefined_placeholder_inside_a_build_arg_value_is_an_error():
    with pytest.raises(DefinitionError, match=r"test.def line 4: \{\{ B \}\} is not defined"):
        render("%post\n    {{ A }}\n", {"A": "x{{ B }}"})


def test_definition_must_parse_before_templating():
    with pytest.raises(DefinitionError, match="unknown section %enviroment"):
        render("%enviroment\n    {{ A }}\n", {"A": "1"})


def test_load_definition_keeps_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "latin1.def"
    path.write_bytes(HEADER.encode() + b"%help\n    Caf\xe9 au lait\n")

    definition = load_definition(path)

    assert definition.raw_bytes() == path.read_bytes()


def test_load_definition_templates_and_keeps_the_rest(tmp_path):
    path = tmp_path / "analysis.def"
    path.write_text("# {{ KEPT }}\nBootstrap: docker\nFrom: debian:{{ V }}\n")

    definition = load_definition(path, {"V": "13"})

    assert definition.raw == "# {{ KEPT }}\nBootstrap: docker\nFrom: debian:13\n"
    assert definition.final.header["from"] == "debian:13"


def test_missing_definition_file_is_an_error(tmp_path):
    with pytest.raises(DefinitionError, match="cannot read definition file .*absent.def: "
                       "No such file or directory"):
        load_definition(tmp_path / "absent.def")
