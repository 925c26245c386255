"""The container side of the environment: the action script run for real by busybox sh,
dash and bash against a throw-away root (JUPYTAINER_ACTION_ROOT stands for /), with the
environment compose_environment made."""

import shutil
import subprocess
from pathlib import Path

import pytest

from jupytainer.runtime import log
from jupytainer.runtime.launch.environment import (DEFAULT_PATH, EnvironmentRequest,
                                                   action_argv, compose_environment)
from image_support import metadata_root, write

SHELLS = {"busybox sh": ["busybox", "sh"], "dash": ["dash"], "bash": ["bash"],
          "bash --posix": ["bash", "--posix"]}
ENV = shutil.which("env", path=DEFAULT_PATH)
PRINT_ENV = [ENV, "-0"]
SHELL_VARIABLES = {"PWD", "SHLVL", "_", "OLDPWD"}


@pytest.fixture(params=sorted(SHELLS))
def shell(request) -> list[str]:
    if not shutil.which(SHELLS[request.param][0]):
        pytest.fail(f"{SHELLS[request.param][0]} is missing: run dev/setup")
    return SHELLS[request.param]


def run_action(interpreter: list[str], root: Path, action: str, args: list[str],
               host: dict[str, str] | None = None, **request) -> subprocess.CompletedProcess:
    request.setdefault("home_dest", "/home/dest")
    request.setdefault("image_path", "/images/demo.sif")
    environment = compose_environment(host or {}, EnvironmentRequest(**request))
    environment["JUPYTAINER_ACTION_ROOT"] = str(root)
    argv = action_argv(action, args)
    assert argv[0] == "/bin/sh"
    return subprocess.run([*interpreter, *argv[1:]], env=environment, capture_output=True,
                          cwd=root, timeout=30)


def container_env(shell: list[str], root: Path, host: dict[str, str] | None = None,
                  **request) -> dict[str, str]:
    result = run_action(shell, root, "exec", PRINT_ENV, host, **request)
    assert result.returncode == 0, result.stderr.decode()
    entries = result.stdout.decode().split("\0")[:-1]
    variables = dict(entry.split("=", 1) for entry in entries)
    return {key: value for key, value in variables.items() if key not in SHELL_VARIABLES}


# Every layer sets the variable named after it and those of the layers above it, so V_L is
# set by L and every layer below L: the value seen must be L's.
LAYERS = ["ENV", "ENVFILE", "APPTAINERENV", "E91", "E90", "DOCKER", "HOST"]


def layer_names(layer: str) -> list[str]:
    return [f"V_{name}" for name in LAYERS[:LAYERS.index(layer) + 1]]


def exports(layer: str) -> str:
    return "".join(f'export {name}="{layer}"\n' for name in layer_names(layer))


@pytest.fixture
def layered_root(tmp_path) -> Path:
    return metadata_root(tmp_path / "root", env={
        "10-docker2singularity.sh": "#!/bin/sh\n" + "".join(
            f'export {name}="${{{name}:-DOCKER}}"\n' for name in layer_names("DOCKER")),
        "90-environment.sh": "#!/bin/sh\n" + exports("E90"),
        "91-environment.sh": "#!/bin/sh\n" + exports("E91"),
        "99-base.sh": "#!/bin/sh\n",
    })


def test_precedence_env_envfile_apptainerenv_91_90_docker_host(shell, layered_root, tmp_path):
    env_file = tmp_path / "layer.env"
    env_file.write_text("".join(f"{name}=ENVFILE\n" for name in layer_names("ENVFILE")))
    host = {name: "HOST" for name in layer_names("HOST")}
    host.update({f"APPTAINERENV_{name}": "APPTAINERENV" for name in layer_names("APPTAINERENV")})

    seen = container_env(shell, layered_root, host, env_files=[str(env_file)],
                         env={name: "ENV" for name in layer_names("ENV")})

    assert {layer: seen[f"V_{layer}"] for layer in LAYERS} == {layer: layer for layer in LAYERS}


def test_host_path_never_passes_and_docker_path_is_completed(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={
        "10-docker2singularity.sh": '#!/bin/sh\nexport PATH="/opt/app/bin:/usr/bin"\n'})

    seen = container_env(shell, root, {"PATH": "/host/only"})

    assert seen["PATH"] == ("/opt/app/bin:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                            "/sbin:/bin")


def test_default_path_without_any_env_script(shell, tmp_path):
    root = metadata_root(tmp_path / "root")

    assert container_env(shell, root, {"PATH": "/host/only"})["PATH"] == DEFAULT_PATH


def test_environment_script_sees_default_path(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={
        "90-environment.sh": '#!/bin/sh\nexport SEEN_PATH="$PATH"\nexport PATH="/x:$PATH"\n'})

    seen = container_env(shell, root)

    assert seen["SEEN_PATH"] == DEFAULT_PATH
    assert seen["PATH"] == f"/x:{DEFAULT_PATH}"


@pytest.mark.parametrize("overrides, expected", [
    ({"APPTAINERENV_PREPEND_PATH": "/pre"}, f"/pre:/img/bin:{DEFAULT_PATH}"),
    ({"APPTAINERENV_APPEND_PATH": "/post"}, f"/img/bin:{DEFAULT_PATH}:/post"),
    ({"APPTAINERENV_PATH": "/only"}, "/only"),
    ({"APPTAINERENV_PATH": "/only", "APPTAINERENV_PREPEND_PATH": "/pre"}, "/only"),
])
def test_path_overrides_apply_after_the_image(shell, tmp_path, overrides, expected):
    root = metadata_root(tmp_path / "root", env={
        "90-environment.sh": '#!/bin/sh\nexport PATH="/img/bin:$PATH"\n',
        "99-base.sh": "#!/bin/sh\n",
        "99-runtimevars.sh": "#!/bin/sh\n# the runtime's own copy runs instead\nexit 3\n"})

    seen = container_env(shell, root, overrides)

    assert seen["PATH"] == expected
    assert not [key for key in seen if key.startswith("SING_USER_DEFINED")]


def test_cleanenv_keeps_only_the_always_passed_variables(shell, tmp_path):
    root = metadata_root(tmp_path / "root")
    host = {"FOO": "host", "TERM": "vt100", "https_proxy": "http://p", "LANG": "de_DE"}

    seen = container_env(shell, root, host, cleanenv=True)

    assert "FOO" not in seen
    assert (seen["TERM"], seen["https_proxy"], seen["LANG"]) == ("vt100", "http://p", "C")


def test_host_value_fills_only_gaps_and_emptied_variables_go(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={
        "90-environment.sh": '#!/bin/sh\nexport SET_BY_IMAGE=image\nexport EMPTIED=""\n'})
    host = {"SET_BY_IMAGE": "host", "EMPTIED": "host", "ONLY_HOST": "host"}

    seen = container_env(shell, root, host)

    assert seen["SET_BY_IMAGE"] == "image"
    assert seen["ONLY_HOST"] == "host"
    assert "EMPTIED" not in seen


def test_image_scripts_start_from_a_clear_environment(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={
        "90-environment.sh": '#!/bin/sh\nexport SAW_FOO="${FOO:-unset}" SAW_HOME="$HOME"\n'})

    seen = container_env(shell, root, {"FOO": "host"})

    assert (seen["SAW_FOO"], seen["SAW_HOME"], seen["FOO"]) == ("unset", "/home/dest", "host")


VALUES = ["two words", "it's \"quoted\"", "dollar $HOME and `backquotes`", "line one\nline two",
          "back\\slash", "*", " leading and trailing "]


@pytest.mark.parametrize("value", VALUES)
def test_host_values_pass_byte_for_byte(shell, tmp_path, value):
    root = metadata_root(tmp_path / "root")

    assert container_env(shell, root, {"TRICKY": value})["TRICKY"] == value


@pytest.mark.parametrize("value", VALUES)
def test_no_eval_overrides_pass_byte_for_byte(shell, tmp_path, value):
    root = metadata_root(tmp_path / "root")

    seen = container_env(shell, root, env={"TRICKY": value}, no_eval=True)

    assert seen["TRICKY"] == value


@pytest.mark.parametrize("value, expected", [
    ("two words", "two words"),
    ('say "hi"', 'say "hi"'),
    ("home is $HOME", "home is /home/dest"),
    ("not \\$HOME", "not $HOME"),
    ("line one\nline two", "line one\nline two"),
    ("trailing\\", "trailing\\"),
])
def test_overrides_are_evaluated_once(shell, tmp_path, value, expected):
    root = metadata_root(tmp_path / "root", env={"99-base.sh": "#!/bin/sh\n"})

    assert container_env(shell, root, env={"TRICKY": value})["TRICKY"] == expected


def test_overrides_beat_the_image_even_without_99_base(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={"90-environment.sh": "export A=image\n"})

    assert container_env(shell, root, env={"A": "cli"})["A"] == "cli"


def test_ld_library_path_rules(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={
        "99-base.sh": '#!/bin/sh\nLD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}'
                      '/.singularity.d/libs"\nexport LD_LIBRARY_PATH\n'})
    write(root / ".singularity.d" / "libs32" / "libx.so", "")

    plain = container_env(shell, root, {"LD_LIBRARY_PATH": "/host/lib"})
    overridden = container_env(shell, root, {"APPTAINERENV_LD_LIBRARY_PATH": "/mine",
                                             "APPTAINERENV_PREPEND_LD_LIBRARY_PATH": "/first"})

    assert plain["LD_LIBRARY_PATH"] == "/.singularity.d/libs:/.singularity.d/libs32"
    assert overridden["LD_LIBRARY_PATH"] == (
        "/first:/mine:/.singularity.d/libs:/.singularity.d/libs32")


def test_used_libs_dir_comes_after_the_images_library_dirs(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={
        "99-base.sh": 'export LD_LIBRARY_PATH="/.singularity.d/libs"\n'})
    write(root / ".singularity.d" / "libs" / "libgpu.so", "")
    write(root / "sbin" / "ldconfig", "#!/bin/sh\n"
          "echo '/usr/lib/x86_64-linux-gnu: (from /etc/ld.so.conf.d/x86_64-linux-gnu.conf:3)'\n"
          "printf '\\tlibc.so.6 -> libc.so.6\\n'\n"
          "echo '/lib: (from <builtin>:0)'\n")

    seen = container_env(shell, root)

    assert seen["LD_LIBRARY_PATH"] == "/usr/lib/x86_64-linux-gnu:/lib:/.singularity.d/libs"


def test_runtime_variables_and_prompt(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={
        "90-environment.sh": "export APPTAINER_NAME=changed\n"})

    seen = container_env(shell, root, app=None)

    assert seen["APPTAINER_NAME"] == "demo.sif"
    assert seen["SINGULARITY_CONTAINER"] == "/images/demo.sif"
    assert seen["APPTAINER_COMMAND"] == "exec"
    assert seen["PS1"] == "Apptainer> "
    assert seen["APPTAINER_ENVIRONMENT"] == "/.singularity.d/env/91-environment.sh"
    assert "JUPYTAINER_ENV_NAMES" not in seen and "JUPYTAINER_ENV_INJECT" not in seen


def test_host_variables_named_like_the_scripts_own_are_harmless(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={"90-environment.sh": "export A=image\n"})

    seen = container_env(shell, root, {"__jt_names": "x", "__jt_root": "/nowhere"})

    assert seen["A"] == "image"


def test_prompt_command_forces_the_prompt(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={"99-base.sh": 'export PS1="Image> "\n'})

    fresh = container_env(shell, root)
    chained = container_env(shell, root, {"PROMPT_COMMAND": "history -a"})

    assert fresh["PROMPT_COMMAND"] == 'PS1="Image> "; unset PROMPT_COMMAND'
    assert chained["PROMPT_COMMAND"] == (
        'history -a; PROMPT_COMMAND="${PROMPT_COMMAND%%; PROMPT_COMMAND=*}"; PS1="Image> "')


def test_scripts_run_in_lexical_order(shell, tmp_path):
    root = metadata_root(tmp_path / "root", env={
        name: f'export ORDER="${{ORDER:-}}{name[:2]} "\n'
        for name in ("50-b.sh", "05-a.sh", "91-environment.sh", "90-environment.sh")})

    assert container_env(shell, root)["ORDER"] == "05 50 90 91 "


def test_legacy_image_sources_environment_file(shell, tmp_path):
    root = tmp_path / "root"
    write(root / "environment", "export LEGACY=yes\nexport PATH=/legacy\n")

    seen = container_env(shell, root)

    assert seen["LEGACY"] == "yes"
    assert seen["PATH"] == f"/legacy:{DEFAULT_PATH}"


def test_exec_passes_arguments_verbatim(shell, tmp_path):
    root = metadata_root(tmp_path / "root")
    args = ["a b", "", "$HOME", "*", "line\nbreak"]

    result = run_action(shell, root, "exec", ["printf", "[%s]", *args])

    assert result.stdout.decode() == "".join(f"[{arg}]" for arg in args)


def test_run_executes_the_runscript_with_arguments(shell, tmp_path):
    root = metadata_root(tmp_path / "root", files={
        "/.singularity.d/runscript": '#!/bin/sh\necho "run: $# $1|$2"\nexit 7\n'})

    result = run_action(shell, root, "run", ["one two", "three"])

    assert (result.returncode, result.stdout.decode()) == (7, "run: 2 one two|three\n")


def test_run_without_runscript_falls_back_to_sh(shell, tmp_path):
    root = metadata_root(tmp_path / "root")
    write(root / "bin" / "sh", "#!/bin/sh\necho fallback \"$@\"\n")

    result = run_action(shell, root, "run", ["arg"])

    assert result.stdout.decode() == "fallback arg\n"
    assert result.stderr.decode() == (
        "INFO:    No runscript found in container, executing /bin/sh\n")


def test_run_without_runscript_or_sh_fails(shell, tmp_path):
    root = metadata_root(tmp_path / "root")

    result = run_action(shell, root, "run", [])

    assert result.returncode == 1
    assert result.stderr.decode() == ("ERROR:   No runscript and no /bin/sh executable found "
                                      "in container, aborting\n")


def test_test_runs_the_test_script_or_says_there_is_none(shell, tmp_path):
    root = metadata_root(tmp_path / "root")

    missing = run_action(shell, root, "test", [])
    write(root / ".singularity.d" / "test", "#!/bin/sh\necho testing \"$@\"\nexit 4\n")
    present = run_action(shell, root, "test", ["x"])

    assert (missing.returncode, missing.stderr.decode()) == (
        0, "INFO:    No test script found in container, exiting\n")
    assert (present.returncode, present.stdout.decode()) == (4, "testing x\n")


def test_a_quiet_launcher_keeps_info_lines_quiet(shell, tmp_path, monkeypatch):
    root = metadata_root(tmp_path / "root")
    monkeypatch.setattr(log, "level", log.QUIET)

    result = run_action(shell, root, "test", [])

    assert (result.returncode, result.stderr.decode()) == (0, "")


def test_start_runs_the_startscript_or_says_there_is_none(shell, tmp_path):
    root = metadata_root(tmp_path / "root")

    missing = run_action(shell, root, "start", [])
    write(root / ".singularity.d" / "startscript", "#!/bin/sh\necho started\n")
    present = run_action(shell, root, "start", [])

    assert (missing.returncode, missing.stderr.decode()) == (
        0, "INFO:    No instance start script found in container\n")
    assert present.stdout.decode() == "started\n"


def test_shell_prefers_bash_then_sh(shell, tmp_path):
    root = metadata_root(tmp_path / "root")
    write(root / "bin" / "sh", '#!/bin/sh\necho "sh $SHELL $*"\n')

    with_sh = run_action(shell, root, "shell", ["-c", "x"])
    write(root / "bin" / "bash", '#!/bin/sh\necho "bash $SHELL $*"\n')
    with_bash = run_action(shell, root, "shell", [])

    assert with_sh.stdout.decode() == "sh /bin/sh -c x\n"
    assert with_bash.stdout.decode() == "bash /bin/bash --norc\n"


def test_shell_honours_the_chosen_shell(shell, tmp_path):
    root = metadata_root(tmp_path / "root")
    chosen = tmp_path / "myshell"
    write(chosen, '#!/bin/sh\necho "chosen $*"\n')

    result = run_action(shell, root, "shell", ["arg"], shell=str(chosen))

    assert result.stdout.decode() == "chosen arg\n"


APP_FILES = {
    "/scif/apps/tool/scif/runscript": '#!/bin/sh\necho "tool run $*"\n',
    "/scif/apps/tool/scif/test": '#!/bin/sh\necho "tool test"\n',
    "/scif/apps/empty/scif/labels.json": "{}",
}


@pytest.mark.parametrize("action, app, code, stdout, stderr", [
    ("run", "tool", 0, "tool run a\n", ""),
    ("test", "tool", 0, "tool test\n", ""),
    ("run", "empty", 1, "", "ERROR:   no runscript for contained app: empty\n"),
    ("test", "empty", 1, "", "ERROR:   No tests for contained app: empty\n"),
])
def test_app_actions(shell, tmp_path, action, app, code, stdout, stderr):
    root = metadata_root(tmp_path / "root", files=APP_FILES)

    result = run_action(shell, root, action, ["a"], app=app)

    assert (result.returncode, result.stdout.decode(), result.stderr.decode()) == (
        code, stdout, stderr)


def test_unknown_action_is_refused():
    with pytest.raises(ValueError):
        action_argv("explode", [])
