"""`python -m jupytainer.runtime.deffile FILE`: the parse as JSON, or one FATAL line."""

import json
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).parent / "data" / "deffiles"


def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jupytainer.runtime.deffile", *args],
                          capture_output=True, text=True, timeout=60)


def test_prints_the_parse_as_json():
    path = CORPUS / "good" / "templating_nested_defaults.def"

    result = run_module(str(path), "--build-arg", "RELEASE=13")

    assert result.returncode == 0, result.stderr
    expected = json.loads(path.with_suffix(".json").read_text())
    assert json.loads(result.stdout) == expected


def test_bad_file_gives_one_fatal_line_and_status_255():
    path = CORPUS / "bad" / "unknown_section_typo.def"

    result = run_module(str(path))

    assert result.returncode == 255
    assert result.stdout == ""
    assert result.stderr == (f"FATAL:   {path} line 6: unknown section %enviroment "
                             "(did you mean %environment?)\n")


def test_build_arg_without_equals_gives_one_fatal_line():
    result = run_module(str(CORPUS / "good" / "templating_unused_build_arg.def"),
                        "--build-arg", "VERSION")

    assert result.returncode == 255
    assert result.stderr == ('FATAL:   --build-arg "VERSION" is not a KEY=VALUE pair: write '
                             "--build-arg VERSION=VALUE\n")
