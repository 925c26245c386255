"""The launcher side of the container's environment: compose_environment, rule by rule."""

import pytest

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch import environment as environment_module
from jupytainer.runtime.launch.environment import (DEFAULT_PATH, INJECT_VARIABLE,
                                                   NAMES_VARIABLE, EnvironmentRequest,
                                                   compose_environment, direct_command)

HOST = {"FOO": "host foo", "PATH": "/host/bin", "HOME": "/home/host", "TERM": "xterm",
        "LD_LIBRARY_PATH": "/host/lib", "http_proxy": "http://proxy", "LANG": "fr_FR.UTF-8"}


def compose(host: dict[str, str], **request) -> dict[str, str]:
    request.setdefault("home_dest", "/home/dest")
    request.setdefault("image_path", "/images/demo.sif")
    return compose_environment(host, EnvironmentRequest(**request))


def injected(environment: dict[str, str]) -> list[str]:
    return environment[INJECT_VARIABLE].splitlines()


# (what the row shows, extra host variables, request, expected subset, names that must be absent)
FORWARDING = [
    ("host variables pass", {}, {}, {"FOO": "host foo", "TERM": "xterm"}, []),
    ("HOME is the home destination", {}, {}, {"HOME": "/home/dest"}, []),
    ("PATH is the default, never the host's", {}, {}, {"PATH": DEFAULT_PATH}, []),
    ("host LD_LIBRARY_PATH never passes", {}, {}, {}, ["LD_LIBRARY_PATH"]),
    ("runtime settings never pass",
     {"APPTAINER_BIND": "/a", "SINGULARITY_BIND": "/b", "JUPYTAINER_CACHEDIR": "/c"}, {}, {},
     ["APPTAINER_BIND", "SINGULARITY_BIND", "JUPYTAINER_CACHEDIR"]),
    ("override variables do not pass as themselves", {"APPTAINERENV_X": "1"}, {}, {},
     ["APPTAINERENV_X", "X"]),
    ("--no-env blocks a host variable", {}, {"no_env": ["FOO"]}, {"TERM": "xterm"}, ["FOO"]),
    ("--cleanenv drops host variables", {}, {"cleanenv": True}, {}, ["FOO"]),
    ("--cleanenv keeps TERM and the proxies", {}, {"cleanenv": True},
     {"TERM": "xterm", "http_proxy": "http://proxy"}, []),
    ("--cleanenv sets LANG=C", {}, {"cleanenv": True}, {"LANG": "C"}, []),
    ("without --cleanenv the host LANG passes", {}, {}, {"LANG": "fr_FR.UTF-8"}, []),
    ("a host variable that is also overridden is not forwarded",
     {"APPTAINERENV_FOO": "over"}, {}, {}, ["FOO"]),
]


@pytest.mark.parametrize("extra, request_, expected, absent",
                         [row[1:] for row in FORWARDING], ids=[row[0] for row in FORWARDING])
def test_forwarding_rules(extra, request_, expected, absent):
    environment = compose({**HOST, **extra}, **request_)

    assert {key: environment.get(key) for key in expected} == expected
    assert not set(absent) & set(environment)


RUNTIME = [
    ("container and name", {}, {"CONTAINER": "/images/demo.sif", "NAME": "demo.sif"}),
    ("app", {"app": "tool"}, {"APPNAME": "tool"}),
    ("binds", {"binds": ["/data", "/scratch"]}, {"BIND": "/data,/scratch"}),
    ("instance", {"instance": "web"}, {"INSTANCE": "web"}),
    ("shell", {"shell": "/bin/ash"}, {"SHELL": "/bin/ash"}),
    ("no-eval", {"no_eval": True}, {"NO_EVAL": "1"}),
]


@pytest.mark.parametrize("request_, expected", [row[1:] for row in RUNTIME],
                         ids=[row[0] for row in RUNTIME])
def test_runtime_variables_have_both_prefixes(request_, expected):
    environment = compose(HOST, **request_)

    for key, value in expected.items():
        assert environment[f"APPTAINER_{key}"] == value
        assert environment[f"SINGULARITY_{key}"] == value


def test_runtime_variables_are_absent_when_not_asked_for():
    environment = compose(HOST)

    for key in ("APPNAME", "BIND", "INSTANCE", "SHELL", "NO_EVAL"):
        assert f"APPTAINER_{key}" not in environment


# (what the row shows, host override variables, request, expected inject lines)
OVERRIDES = [
    ("APPTAINERENV_ becomes an export", {"APPTAINERENV_A": "1"}, {}, ['export A="1"']),
    ("JUPYTAINERENV_ is an alias", {"JUPYTAINERENV_A": "1"}, {}, ['export A="1"']),
    ("SINGULARITYENV_ is the legacy spelling", {"SINGULARITYENV_A": "1"}, {},
     ['export A="1"']),
    ("APPTAINERENV_ is preferred to SINGULARITYENV_",
     {"SINGULARITYENV_A": "old", "APPTAINERENV_A": "new"}, {}, ['export A="new"']),
    ("PREPEND_PATH", {"APPTAINERENV_PREPEND_PATH": "/p"}, {},
     ['export SING_USER_DEFINED_PREPEND_PATH="/p"']),
    ("APPEND_PATH", {"APPTAINERENV_APPEND_PATH": "/a"}, {},
     ['export SING_USER_DEFINED_APPEND_PATH="/a"']),
    ("PATH", {"APPTAINERENV_PATH": "/only"}, {}, ['export SING_USER_DEFINED_PATH="/only"']),
    ("LD_LIBRARY_PATH keeps the libs dir", {"APPTAINERENV_LD_LIBRARY_PATH": "/l"}, {},
     ['export LD_LIBRARY_PATH="/l:/.singularity.d/libs"']),
    ("HOME cannot be overridden", {"APPTAINERENV_HOME": "/x"}, {}, []),
    ("UID and GID are not exported", {"APPTAINERENV_UID": "5", "APPTAINERENV_GID": "5"}, {},
     []),
    ("invalid names are ignored", {"APPTAINERENV_a.b": "1"}, {}, []),
    ("--env wins over APPTAINERENV_", {"APPTAINERENV_A": "host"}, {"env": {"A": "cli"}},
     ['export A="cli"']),
    ("--env wins over JUPYTAINERENV_", {"JUPYTAINERENV_A": "host"}, {"env": {"A": "cli"}},
     ['export A="cli"']),
    ("values are evaluated once", {"APPTAINERENV_A": 'a "b" $HOME'}, {},
     ['export A="a \\"b\\" $HOME"']),
    ("an escaped quote stays escaped", {"APPTAINERENV_A": 'x\\"y'}, {}, ['export A="x\\"y"']),
    ("a trailing backslash stays literal", {"APPTAINERENV_A": "x\\"}, {}, ['export A="x\\\\"']),
    ("--no-eval quotes literally", {"APPTAINERENV_A": "it's $HOME"}, {"no_eval": True},
     ["export A='it'\"'\"'s $HOME'"]),
]


@pytest.mark.parametrize("extra, request_, expected", [row[1:] for row in OVERRIDES],
                         ids=[row[0] for row in OVERRIDES])
def test_override_rules(extra, request_, expected):
    assert injected(compose({**HOST, **extra}, **request_)) == expected


WARNINGS = [
    ({"APPTAINERENV_HOME": "/x"},
     "Overriding HOME environment variable with APPTAINERENV_HOME is not permitted"),
    ({"APPTAINERENV_PATH": "/x"}, None),
    ({"APPTAINERENV_APPTAINER_SHELL": "/x"},
     "Overriding APPTAINER_SHELL environment variable with APPTAINERENV_APPTAINER_SHELL is "
     "not permitted"),
    ({"APPTAINERENV_A": "new", "SINGULARITYENV_A": "old"},
     "Skipping environment variable [SINGULARITYENV_A=old], A is already overridden with "
     "different value [new]"),
    ({"APPTAINERENV_FOO": "over"},
     "Environment variable FOO already has value [over], will not forward new value "
     "[host foo] from parent process environment"),
]


@pytest.mark.parametrize("extra, warning", WARNINGS)
def test_refused_and_conflicting_overrides_warn(extra, warning, capsys):
    compose({**HOST, **extra})

    stderr = capsys.readouterr().err
    if warning is None:
        assert stderr == ""
    else:
        assert stderr == f"WARNING: {warning}\n"


def test_env_file_is_evaluated_as_shell_below_env(tmp_path, capsys):
    env_file = tmp_path / "vars.env"
    env_file.write_text('# a comment\nA="from file"\nB=\'single $quoted\'\n'
                        'C="$FOO and $1"\nexport D=exported\nE=$APPTAINER_IMAGE\n')

    environment = compose(HOST, env_files=[str(env_file)], env={"A": "from --env"},
                          args=["first"])

    assert sorted(injected(environment)) == [
        'export A="from --env"', 'export B="single $quoted"', 'export C="host foo and first"',
        'export D="exported"', 'export E="/images/demo.sif"']
    assert capsys.readouterr().err == (
        "WARNING: Ignored environment file variable A: override from --env\n")


def test_later_env_files_win(tmp_path):
    first, second = tmp_path / "1.env", tmp_path / "2.env"
    first.write_text("A=first\nB=first\n")
    second.write_text("A=second\n")

    environment = compose(HOST, env_files=[str(first), str(second)])

    assert sorted(injected(environment)) == ['export A="second"', 'export B="first"']


def test_env_file_output_is_not_taken_for_variables(tmp_path):
    env_file = tmp_path / "noisy.env"
    env_file.write_text("echo noise\nA=1\nprintf 'B=2\\0'\n")

    assert injected(compose(HOST, env_files=[str(env_file)])) == ['export A="1"']


@pytest.mark.parametrize("stop", ["exit 0", "exec /bin/true"])
def test_env_file_that_stops_early_is_an_error(tmp_path, stop):
    env_file = tmp_path / "short.env"
    env_file.write_text(f"A=1\n{stop}\nB=2\n")

    with pytest.raises(JupytainerError, match="stopped before its end"):
        compose(HOST, env_files=[str(env_file)])


def test_env_file_does_not_export_the_host_environment(tmp_path):
    env_file = tmp_path / "vars.env"
    env_file.write_text("A=1\n")

    assert injected(compose(HOST, env_files=[str(env_file)])) == ['export A="1"']


def test_missing_env_file_is_an_error(tmp_path):
    with pytest.raises(JupytainerError, match="could not read environment file .*missing"):
        compose(HOST, env_files=[str(tmp_path / "missing")])


def test_env_file_with_a_syntax_error_is_an_error(tmp_path):
    env_file = tmp_path / "bad.env"
    env_file.write_text('A="unterminated\n')

    with pytest.raises(JupytainerError, match="could not evaluate environment file"):
        compose(HOST, env_files=[str(env_file)])


def test_env_file_that_never_ends_is_an_error(tmp_path, monkeypatch):
    env_file = tmp_path / "slow.env"
    env_file.write_text("while :; do :; done\n")
    monkeypatch.setattr(environment_module, "ENV_FILE_TIMEOUT", 1)

    with pytest.raises(JupytainerError, match="took more than 1 seconds to evaluate"):
        compose(HOST, env_files=[str(env_file)])


def test_empty_env_name_is_ignored_with_a_warning(capsys):
    environment = compose(HOST, env={"": "value"})

    assert injected(environment) == []
    assert "variable name missing" in capsys.readouterr().err


def test_snapshot_names_list_every_passed_variable():
    environment = compose({**HOST, "BASH_FUNC_x%%": "() { :; }"})

    names = environment[NAMES_VARIABLE].split()
    assert "FOO" in names and "HOME" in names and "APPTAINER_NAME" in names
    assert "BASH_FUNC_x%%" not in names
    assert NAMES_VARIABLE not in names and INJECT_VARIABLE not in names


def test_direct_command_applies_overrides_literally():
    environment = compose({**HOST, "APPTAINERENV_A": "x $HOME", "APPTAINERENV_PREPEND_PATH": "/p"})

    argv, env = direct_command("exec", ["/bin/tool", "arg"], environment)

    assert argv == ["/bin/tool", "arg"]
    assert env["A"] == "x $HOME"
    assert env["PATH"] == f"/p:{DEFAULT_PATH}"
    assert env["APPTAINER_COMMAND"] == "exec"
    assert NAMES_VARIABLE not in env and INJECT_VARIABLE not in env


TRICKY = ["it's", 'say "hi"', "back\\slash", "trailing\\", "line\nbreak", "$HOME `x`", ""]


@pytest.mark.parametrize("no_eval", [False, True])
@pytest.mark.parametrize("value", TRICKY)
def test_direct_command_keeps_override_values_literal(value, no_eval):
    environment = compose(HOST, env={"V": value, "W": "after"}, no_eval=no_eval)

    _, env = direct_command("exec", ["/bin/tool"], environment)

    assert (env["V"], env["W"]) == (value, "after")


def test_direct_command_refuses_actions_that_need_a_shell():
    with pytest.raises(JupytainerError, match="no /bin/sh"):
        direct_command("run", [], compose(HOST))
