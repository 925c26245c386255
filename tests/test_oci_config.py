"""The image config becomes the environment script, runscript and labels.json; both scripts
are run with /bin/sh to show that every value comes back literally."""

import json
import subprocess

import pytest

from jupytainer.runtime.oci.config import (ImageConfig, environment_script, labels_json,
                                           parse_config, runscript)

AWKWARD = ["plain", "with space", "dollar $HOME and ${PATH}", "back`tick`", 'dou"ble',
           "sin'gle", "new\nline", "back\\slash", "*", ""]


def sourced(script: str, names: list[str], env: dict[str, str] | None = None) -> dict:
    printer = "; ".join(f'printf "%s\\0" "${{{name}-UNSET}}"' for name in names)
    result = subprocess.run(["/bin/sh", "-c", f"{script}\n{printer}"], capture_output=True,
                            env={"PATH": "/usr/bin:/bin", **(env or {})}, check=True)
    return dict(zip(names, result.stdout.decode().split("\0")))


def test_environment_values_are_kept_literally():
    config = ImageConfig(env=[f"V{index}={value}" for index, value in enumerate(AWKWARD)])
    found = sourced(environment_script(config), [f"V{index}" for index in range(len(AWKWARD))])
    assert list(found.values()) == AWKWARD


def test_image_environment_is_a_default_but_path_is_always_set():
    config = ImageConfig(env=["PATH=/image/bin", "EDITOR=vi", "EMPTY"])
    found = sourced(environment_script(config), ["PATH", "EDITOR", "EMPTY"],
                    env={"EDITOR": "emacs"})
    assert found == {"PATH": "/image/bin", "EDITOR": "emacs", "EMPTY": ""}


def test_invalid_variable_names_are_skipped_with_a_warning(capsys):
    script = environment_script(ImageConfig(env=["1ABC=x", "A-B=y", "GOOD=z"]))
    assert "1ABC" not in script and "A-B" not in script and "GOOD" in script
    warnings = capsys.readouterr().err
    assert "skipping the image environment variable '1ABC': not a valid shell variable" \
        in warnings
    assert "'A-B'" in warnings


def run_script(config: ImageConfig, *args: str, no_eval: bool = False) -> list[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/home/someone"}
    if no_eval:
        env["SINGULARITY_NO_EVAL"] = "1"
    result = subprocess.run(["/bin/sh", "-c", runscript(config), "runscript", *args],
                            capture_output=True, env=env, check=True)
    return result.stdout.decode().split("\0")[:-1]


PRINTF = ["printf", "%s\\0"]


@pytest.mark.parametrize("entrypoint, cmd, args, expected", [
    (PRINTF, ["a", "b"], [], ["a", "b"]),
    (PRINTF, ["a", "b"], ["x"], ["x"]),
    (PRINTF, [], ["x", "y"], ["x", "y"]),
    ([], [*PRINTF, "cmd"], [], ["cmd"]),
    ([], [*PRINTF, "cmd"], [*PRINTF, "args"], ["args"]),
    (PRINTF, AWKWARD, [], AWKWARD),
])
def test_runscript_combines_entrypoint_cmd_and_arguments(entrypoint, cmd, args, expected):
    config = ImageConfig(entrypoint=entrypoint, cmd=cmd)
    assert run_script(config, *args) == expected
    assert run_script(config, *args, no_eval=True) == expected


def test_arguments_are_evaluated_once_unless_no_eval():
    config = ImageConfig(entrypoint=PRINTF)
    assert run_script(config, "$HOME") == ["/home/someone"]
    assert run_script(config, "$HOME", no_eval=True) == ["$HOME"]


def test_runscript_with_option_like_first_word_is_not_taken_as_set_option():
    config = ImageConfig(cmd=["-x"])
    assert "set -- ${SINGULARITY_OCI_RUN}" in runscript(config)


def test_labels_json_is_sorted_tab_indented_and_html_safe():
    text = labels_json({"b": "2", "a": "<tag> & more", "ü": "ö"})
    assert text == '{\n\t"a": "\\u003ctag\\u003e \\u0026 more",\n\t"b": "2",\n\t"ü": "ö"\n}'
    assert json.loads(text)["a"] == "<tag> & more"


def test_config_fields_may_be_missing_or_null():
    config = parse_config({"architecture": "arm64", "config": {"Env": None, "Cmd": "sh",
                                                               "Labels": None}})
    assert (config.env, config.cmd, config.labels, config.architecture) == ([], ["sh"], {},
                                                                          "arm64")
    assert parse_config({}).entrypoint == []
