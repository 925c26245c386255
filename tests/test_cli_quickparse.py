"""The quick parser of exec, run, shell and test gives what argparse gives, or leaves the
words to argparse: on each row of the table, both parsers are run and compared."""

import pytest

from jupytainer.runtime.cli import GLOBAL_FLAGS, _global_parser, _parse_global, verb_parser
from jupytainer.runtime.cli import actions

# (verb, words) that the quick parser handles itself.
HANDLED = [
    ("exec", ["img", "true"]),
    ("exec", ["img", "sh", "-c", "echo hi", "--bind", "x"]),
    ("exec", ["-B", "/a", "--bind", "/b:/c:ro", "img", "ls", "-l"]),
    ("exec", ["--bind=/a,/b", "--env", "A=1", "--env=B=2,C=3", "img", "env"]),
    ("exec", ["img", "-c", "--pwd", "/tmp", "cmd", "x", "--", "y"]),
    ("exec", ["-c", "-C", "-e", "-w", "--writable-tmpfs", "-f", "-i", "-n", "-p", "-u",
              "--no-home", "--unsquash", "--ipc", "--net", "img", "cmd"]),
    ("exec", ["-H", "/h:/home/me", "--hostname", "box", "--app", "a", "--pwd", "", "i", "c"]),
    ("exec", ["--env-file", "f", "-o", "o1", "--overlay", "o2:ro", "--no-mount", "tmp",
              "img", "c"]),
    ("exec", ["--home", "/a", "--home", "/b", "img", ""]),
    ("run", ["img"]),
    ("run", ["img", "-B", "x", "--help", "--", "-c"]),
    ("run", ["--contain", "img", "a", "b"]),
    ("shell", ["--cleanenv", "img"]),
    ("exec", ["--no-env", "A,B", "--no-env=C", "--no-eval", "img", "c"]),
    ("shell", ["--shell", "/bin/ash", "img"]),
    ("test", ["-B", "/a", "img"]),
    ("run", ["instance://web", "x"]),
]

# Words that only argparse may judge: help, mistakes, abbreviations, grouped flags...
LEFT_TO_ARGPARSE = [
    ("exec", ["--help"]),
    ("exec", ["-h", "img", "true"]),
    ("exec", ["img"]),
    ("exec", ["img", "--not-a-flag"]),
    ("exec", []),
    ("run", []),
    ("exec", ["--cont", "img", "true"]),
    ("exec", ["-ce", "img", "true"]),
    ("exec", ["-Bx", "img", "true"]),
    ("exec", ["-B=/d", "img", "true"]),
    ("exec", ["img", "cmd", "--", "x"]),
    ("run", ["img", "--", "x"]),
    ("exec", ["-B"]),
    ("exec", ["-B", "-x", "img", "true"]),
    ("exec", ["--contain=yes", "img", "true"]),
    ("exec", ["--", "img", "true"]),
    ("exec", ["-", "true"]),
    ("run", ["--unknown", "img"]),
]

VERB_ENVIRONMENT = {"APPTAINER_CONTAIN": "1", "JUPYTAINER_PWD": "/work",
                    "SINGULARITY_HOSTNAME": "h", "APPTAINER_UNSQUASH": "no",
                    "APPTAINER_NO_EVAL": "1", "JUPYTAINER_SHELL": "/bin/ash"}


def argparse_result(verb: str, words: list[str]) -> dict:
    return vars(verb_parser(verb, actions).parse_args(words))


def quick_result(verb: str, words: list[str]) -> dict | None:
    parsed = actions.quick_parse(verb, words)
    return None if parsed is None else {**vars(parsed), "verb": verb}


@pytest.mark.parametrize(("verb", "words"), HANDLED)
def test_quick_parser_agrees_with_argparse(verb, words):
    assert quick_result(verb, words) == argparse_result(verb, words)


@pytest.mark.parametrize(("verb", "words"), HANDLED)
def test_quick_parser_takes_the_same_defaults_from_the_environment(verb, words, monkeypatch):
    for name, value in VERB_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    assert quick_result(verb, words) == argparse_result(verb, words)


@pytest.mark.parametrize(("verb", "words"), LEFT_TO_ARGPARSE)
def test_quick_parser_leaves_the_rest_to_argparse(verb, words):
    assert actions.quick_parse(verb, words) is None


def test_both_parsers_know_the_same_flags():
    parser = verb_parser("exec", actions)
    argparse_flags = {flag for action in parser._actions for flag in action.option_strings}
    assert argparse_flags - {"-h", "--help"} == set(actions._flag_kinds())


@pytest.mark.parametrize("words", [[], ["-d"], ["--quiet", "-v"], ["-s", "--version"],
                                   ["-h"], ["--debug", "--help", "-q"]])
def test_global_flags_parse_as_argparse_does(words):
    quick, unknown = _parse_global(words)
    expected, expected_unknown = _global_parser().parse_known_args(words)
    assert (vars(quick), unknown) == (vars(expected), expected_unknown)
    assert set(vars(quick)) == {dest for _, dest in GLOBAL_FLAGS}


@pytest.mark.parametrize("words", [["--deb"], ["-dv"], ["--nope"]])
def test_unusual_global_flags_go_through_argparse(words):
    quick, unknown = _parse_global(words)
    expected, expected_unknown = _global_parser().parse_known_args(words)
    assert (vars(quick), unknown) == (vars(expected), expected_unknown)
