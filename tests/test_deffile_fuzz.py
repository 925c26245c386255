"""Whatever text a definition file holds, parsing and templating either succeed or raise a
DefinitionError with a one-line message: never another exception."""

from hypothesis import given, settings
from hypothesis import strategies as st

from jupytainer.runtime.deffile import DefinitionError, parse_definition, render_definition

# Pieces of definition syntax, so that random files reach the parser's interesting paths.
FRAGMENTS = [
    "Bootstrap:", "bootstrap: docker", "Bootstrap: scratch", "From: x", "Stage: a", "Stage: b",
    "%post", "%files", "%files from a", "%files from", "%apprun", "%apprun app", "%labels",
    "%arguments", "%environment", "%", "%%", "{{ A }}", "{{B}}", "A=1", "B={{ A }}", "#", "#!",
    ":", " ", "\t", "\n", "\r\n", "\r", "\\", "\\n\\", '"', "'", "\ufeff", "\x85", "\xa0", "[",
    "{", "OtherURL1: u", "\udce9",
]

definition_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)),
                           max_size=40).map("".join)


def check_error(error: DefinitionError) -> None:
    """One line, and printable on a UTF-8 terminal even when the file was not UTF-8."""
    assert "\n" not in str(error)
    str(error).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(definition_text)
def test_parse_only_ever_raises_definition_error(text):
    try:
        definition = parse_definition(text)
    except DefinitionError as error:
        check_error(error)
        return
    assert definition.raw == text
    assert definition.stages


@settings(max_examples=400, deadline=None)
@given(definition_text, st.dictionaries(st.sampled_from(["A", "B", "C"]), st.text(max_size=5)))
def test_render_only_ever_raises_definition_error(text, build_args):
    try:
        rendered = render_definition(text, build_args)
    except DefinitionError as error:
        check_error(error)
        return
    if "{{" not in text:
        assert rendered == text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_bytes_that_are_not_utf8_only_ever_raise_definition_error(data):
    text = data.decode("utf-8", "surrogateescape")
    try:
        definition = parse_definition(text)
    except DefinitionError as error:
        check_error(error)
        return
    assert definition.raw_bytes() == data
