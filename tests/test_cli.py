"""The command line's own behaviour: version, help, and how it reports mistakes."""

import os
import subprocess

from conftest import JUPYTAINER
from jupytainer import __version__
from jupytainer.runtime.cli import VERBS


def jupytainer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTAINER), *args], capture_output=True, text=True)


def test_version_prints_the_package_version():
    result = jupytainer("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"jupytainer version {__version__}"


def test_help_lists_every_verb():
    result = jupytainer("--help")
    assert result.returncode == 0
    for verb in VERBS:
        assert verb in result.stdout


def test_every_verb_has_help():
    for verb in VERBS:
        result = jupytainer(verb, "--help")
        assert result.returncode == 0, result.stderr
        assert f"jupytainer {verb}" in result.stdout


def test_unknown_verb_is_one_fatal_line_and_exit_255():
    result = jupytainer("frobnicate")
    assert result.returncode == 255
    assert result.stderr.splitlines() == [
        "FATAL:   unknown verb 'frobnicate': run 'jupytainer --help' for the list"]


def test_no_verb_shows_usage_and_fails():
    result = jupytainer()
    assert result.returncode == 255
    assert "Usage: jupytainer" in result.stdout


def test_help_into_a_closed_pipe_prints_no_traceback():
    reader, writer = os.pipe()
    os.close(reader)
    result = subprocess.run([str(JUPYTAINER), "--help"], stdout=writer, stderr=subprocess.PIPE,
                            text=True)
    os.close(writer)

    assert result.returncode == 141
    assert result.stderr == ""


def test_a_mistyped_flag_or_subcommand_is_one_fatal_line_and_exit_255():
    cases = {("build", "--forse", "x.sif", "x.def"): "unrecognized arguments: --forse",
             ("exec",): "the following arguments are required",
             ("instance", "sart"): "invalid choice: 'sart'"}
    for args, reason in cases.items():
        result = jupytainer(*args)
        assert result.returncode == 255
        [line] = result.stderr.splitlines()
        command = args[0]
        assert line.startswith(f"FATAL:   jupytainer {command}") and reason in line, line
        assert line.endswith(f"run 'jupytainer {command} --help'"), line
