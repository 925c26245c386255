"""The container's environment, composed as Apptainer composes it.

Two halves. On the host, `compose_environment` turns the caller's environment and the
command-line choices into the environment the container's first process starts with: host
variables forwarded or blocked, the APPTAINERENV_/--env-file/--env overrides, HOME, PATH
and the runtime's own variables. In the container, the action script (action.sh, run by
the image's /bin/sh through `action_argv`) sources the image's /.singularity.d/env scripts,
applies the overrides after them, restores host values where the image set none, and runs
the action. Images without /bin/sh cannot source anything: `direct_command` gives the
command and environment to exec for them instead.
"""

import os
# collections.abc's own module, which os has loaded already (collections would cost ~1 ms).
from _collections_abc import Mapping

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.record import Record

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONTAINER_SHELL = "/bin/sh"
ACTION_NAME = "jupytainer-action"
ACTIONS = ("exec", "run", "shell", "test", "start")
# Apptainer gives the evaluation of an environment file a minute.
ENV_FILE_TIMEOUT = 60

# Variables that carry the launcher's data to the action script; it unsets them first.
NAMES_VARIABLE = "JUPYTAINER_ENV_NAMES"
INJECT_VARIABLE = "JUPYTAINER_ENV_INJECT"
LOG_LEVEL_VARIABLE = "JUPYTAINER_LOG_LEVEL"

# Prefixes of the variables that configure the runtime itself: never forwarded.
_SETTING_PREFIXES = ("APPTAINER_", "SINGULARITY_", "JUPYTAINER_")
# Override prefixes, most preferred first; JUPYTAINERENV_ is our spelling of APPTAINERENV_.
_OVERRIDE_PREFIXES = ("APPTAINERENV_", "JUPYTAINERENV_", "SINGULARITYENV_")
_PATH_OVERRIDES = {
    "PREPEND_PATH": "SING_USER_DEFINED_PREPEND_PATH",
    "APPEND_PATH": "SING_USER_DEFINED_APPEND_PATH",
    "PATH": "SING_USER_DEFINED_PATH",
}
_NOT_OVERRIDABLE = frozenset({"HOME", "PATH", "APPTAINER_SHELL", "APPTAINER_APPNAME",
                              "SINGULARITY_SHELL", "SINGULARITY_APPNAME"})
_NEVER_FORWARDED = _NOT_OVERRIDABLE | {"LD_LIBRARY_PATH"}
_ALWAYS_FORWARDED = frozenset({"TERM", "http_proxy", "HTTP_PROXY", "https_proxy",
                               "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy",
                               "ALL_PROXY", "ftp_proxy", "FTP_PROXY"})
# Set by the shell that evaluates an env file, not by the file.
_SHELL_OWNED = frozenset({"EUID", "GID", "HOME", "IFS", "OPTIND", "PWD", "UID", "OLDPWD",
                          "SHLVL", "_"})
# Set only once an env file has been read to its end.
_COMPLETED = "__jupytainer_env_file_completed"
_ACTION_SCRIPT = os.path.join(os.path.dirname(__file__), "action.sh")


class EnvironmentRequest(Record):
    """What the command line asked for that shapes the container's environment."""

    cleanenv: bool = False
    env: dict[str, str] = {}
    env_files: list[str] = []
    no_env: list[str] = []
    home_dest: str = "/root"
    image_path: str = ""
    binds: list[str] = []
    instance: str | None = None
    app: str | None = None
    shell: str | None = None
    no_eval: bool = False
    # The container command's arguments: an env file sees them as "$@".
    args: list[str] = []


def _is_name(word: str) -> bool:
    """Whether word is a shell variable name: ASCII letters, digits and _, not starting
    with a digit (what an ASCII Python identifier is)."""
    return word.isascii() and word.isidentifier()


def compose_environment(host_env: Mapping[str, str],
                        request: EnvironmentRequest) -> dict[str, str]:
    """The environment the action script starts with (Apptainer's launcher side).

    Warnings for refused or conflicting overrides are logged here, once, on the host.
    """
    launcher_env = dict(host_env)
    for name, value in _requested_overrides(host_env, request).items():
        launcher_env.pop(f"JUPYTAINERENV_{name}", None)
        launcher_env[f"APPTAINERENV_{name}"] = value

    overrides = override_map(launcher_env)
    environment = {"LANG": "C"} if request.cleanenv else {}
    environment.update(forwarded_variables(launcher_env, overrides, request))
    environment["HOME"] = request.home_dest
    environment["PATH"] = DEFAULT_PATH
    environment.update(runtime_variables(request))

    names = sorted(name for name in environment if _is_name(name))
    environment[NAMES_VARIABLE] = " ".join(names)
    environment[INJECT_VARIABLE] = inject_script(overrides, request.no_eval)
    environment[LOG_LEVEL_VARIABLE] = str(log.level)
    return environment


def _requested_overrides(host_env: Mapping[str, str],
                         request: EnvironmentRequest) -> dict[str, str]:
    """--env-file values, then --env values over them (with a warning for each clash)."""
    from_files: dict[str, str] = {}
    for path in request.env_files:
        from_files.update(evaluate_env_file(path, host_env, request))

    requested = dict(request.env)
    for name, value in from_files.items():
        if name in requested:
            log.warning(f"Ignored environment file variable {name}: override from --env")
        else:
            requested[name] = value

    for name in list(requested):
        if not name:
            log.warning(f"Ignore environment variable ={requested.pop(name)}: "
                        "variable name missing")
    return requested


def override_map(launcher_env: Mapping[str, str]) -> dict[str, str]:
    """NAME -> value for every APPTAINERENV_/JUPYTAINERENV_/SINGULARITYENV_ variable.

    The first prefix that names a variable wins; PATH, PREPEND_PATH and APPEND_PATH become
    the SING_USER_DEFINED_* names that the runtime's 99-runtimevars.sh applies.
    """
    overrides: dict[str, str] = {}
    for prefix in _OVERRIDE_PREFIXES:
        for prefixed, value in launcher_env.items():
            name = prefixed[len(prefix):] if prefixed.startswith(prefix) else ""
            if not name:
                continue
            if name in _NOT_OVERRIDABLE and name != "PATH":
                log.warning(f"Overriding {name} environment variable with {prefixed} "
                            "is not permitted")
                continue
            if not _is_name(name):
                log.warning(f"Ignored environment variable {prefixed}: {name} is not a valid "
                            "variable name")
                continue
            _add_override(overrides, prefixed, _PATH_OVERRIDES.get(name, name), value)
    return overrides


def _add_override(overrides: dict[str, str], prefixed: str, name: str, value: str) -> None:
    if name not in overrides:
        overrides[name] = value
    elif overrides[name] != value:
        log.warning(f"Skipping environment variable [{prefixed}={value}], {name} is already "
                    f"overridden with different value [{overrides[name]}]")


def forwarded_variables(launcher_env: Mapping[str, str], overrides: Mapping[str, str],
                        request: EnvironmentRequest) -> dict[str, str]:
    """The host variables that pass into the container as they are."""
    blocked = set(request.no_env)
    forwarded = {}
    for name, value in launcher_env.items():
        if name.startswith(_SETTING_PREFIXES) or name.startswith(_OVERRIDE_PREFIXES):
            continue
        if name in blocked or not _may_forward(name, request.cleanenv):
            continue
        if name in overrides:
            if overrides[name] != value:
                log.warning(f"Environment variable {name} already has value "
                            f"[{overrides[name]}], will not forward new value [{value}] "
                            "from parent process environment")
            continue
        forwarded[name] = value
    return forwarded


def _may_forward(name: str, cleanenv: bool) -> bool:
    if name in _ALWAYS_FORWARDED:
        return True
    return not cleanenv and name not in _NEVER_FORWARDED


def runtime_variables(request: EnvironmentRequest) -> dict[str, str]:
    """The variables that tell a program which container it runs in, under both prefixes."""
    values = {"CONTAINER": request.image_path,
              "NAME": os.path.basename(request.image_path.rstrip("/"))}
    if request.app:
        values["APPNAME"] = request.app
    if request.binds:
        values["BIND"] = ",".join(request.binds)
    if request.instance:
        values["INSTANCE"] = request.instance
    if request.shell:
        values["SHELL"] = request.shell
    if request.no_eval:
        values["NO_EVAL"] = "1"
    return {f"{prefix}{key}": value for key, value in values.items()
            for prefix in ("APPTAINER_", "SINGULARITY_")}


def inject_script(overrides: Mapping[str, str], no_eval: bool) -> str:
    """Shell code exporting each override, sourced by the action script after 99-base.sh.

    Values are double-quoted, so the container's shell evaluates them once (`$HOME`,
    `\\$`, backquotes), as Apptainer does; with --no-eval they are taken literally.
    """
    lines = []
    for name, value in overrides.items():
        if name in ("UID", "GID"):
            continue
        if name == "LD_LIBRARY_PATH" and value:
            value += ":/.singularity.d/libs"
        quoted = single_quoted(value) if no_eval else _double_quoted(value)
        lines.append(f"export {name}={quoted}")
    return "\n".join(lines)


def single_quoted(value: str) -> str:
    """value as one shell word, taken literally."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _double_quoted(value: str) -> str:
    """value in double quotes, evaluated once: a `"` the value does not escape is escaped."""
    pieces, index = [], 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            pair = value[index:index + 2]
            pieces.append(pair if len(pair) == 2 else "\\\\")
            index += 2
            continue
        pieces.append('\\"' if char == '"' else char)
        index += 1
    return '"' + "".join(pieces) + '"'


def evaluate_env_file(path: str, host_env: Mapping[str, str],
                      request: EnvironmentRequest) -> dict[str, str]:
    """The variables an --env-file assigns, evaluated by the host's /bin/sh.

    The host variables, APPTAINER_IMAGE and the command's arguments are visible to the
    file but not exported, and every assignment is exported (`set -a`), so what the shell
    exports at the end is exactly what the file set.
    """
    # Limitation: commands in the file run (as the caller, with no input); Apptainer's
    # embedded interpreter refuses to run them.
    import shutil
    import subprocess

    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as failure:
        raise JupytainerError(f"could not read environment file {path}: "
                              f"{failure.strerror}") from None
    visible = dict(host_env)
    visible["APPTAINER_IMAGE"] = visible["SINGULARITY_IMAGE"] = request.image_path
    prelude = "".join(f"{name}={single_quoted(value)}\n" for name, value in visible.items()
                      if _is_name(name) and name not in _SHELL_OWNED)
    lister = shutil.which("env", path=DEFAULT_PATH) or "env"
    # What the file prints must not mix with the listing of what it set.
    script = (f'{prelude}set -a\n. "$0" >&2\nset +a\n'
              f'{_COMPLETED}=1 exec {lister} -0\n')
    try:
        result = subprocess.run([CONTAINER_SHELL, "-c", script, os.path.abspath(path),
                                 *request.args], env={}, stdin=subprocess.DEVNULL,
                                capture_output=True, cwd="/", timeout=ENV_FILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise JupytainerError(f"environment file {path} took more than {ENV_FILE_TIMEOUT} "
                              "seconds to evaluate: keep it to plain assignments") from None
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {result.returncode}"
        raise JupytainerError(f"could not evaluate environment file {path}: {reason}")
    variables = _parse_env_listing(result.stdout)
    if variables.pop(_COMPLETED, None) is None:
        raise JupytainerError(f"environment file {path} stopped before its end (exit or exec): "
                              "keep it to assignments")
    return variables


def _parse_env_listing(listing: bytes) -> dict[str, str]:
    variables = {}
    for entry in listing.decode(errors="surrogateescape").split("\0"):
        name, equals, value = entry.partition("=")
        if equals and _is_name(name) and name not in _SHELL_OWNED:
            variables[name] = value
    return variables


def action_script() -> str:
    """The text of the action script (package data beside this module)."""
    with open(_ACTION_SCRIPT, encoding="utf-8") as handle:
        return handle.read()


def action_argv(action: str, args: list[str]) -> list[str]:
    """The argv to exec in the container: its /bin/sh running the action script."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return [CONTAINER_SHELL, "-c", action_script(), ACTION_NAME, action, *args]


def direct_command(action: str, args: list[str],
                   environment: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """argv and environment for an image without /bin/sh, which cannot source env scripts.

    Only `exec` can work there: the command runs with the composed environment and the
    overrides applied literally (no shell to evaluate them), PATH overrides included.
    """
    # Limitation: without a shell, the image's /.singularity.d/env scripts are not sourced.
    if action != "exec":
        raise JupytainerError(f"cannot {action}: the image has no {CONTAINER_SHELL} to run "
                              "its scripts; use 'jupytainer exec IMAGE COMMAND'")
    env = {name: value for name, value in environment.items()
           if name not in (NAMES_VARIABLE, INJECT_VARIABLE, LOG_LEVEL_VARIABLE)}
    overrides = _parse_inject(environment.get(INJECT_VARIABLE, ""))
    path_overrides = {key: overrides.pop(key, "") for key in _PATH_OVERRIDES.values()}
    env.update(overrides)
    env["PATH"] = _overridden_path(env.get("PATH", DEFAULT_PATH), path_overrides)
    env["APPTAINER_COMMAND"] = action
    return list(args), env


def _overridden_path(path: str, overrides: Mapping[str, str]) -> str:
    if overrides["SING_USER_DEFINED_PREPEND_PATH"]:
        path = f"{overrides['SING_USER_DEFINED_PREPEND_PATH']}:{path}"
    if overrides["SING_USER_DEFINED_APPEND_PATH"]:
        path = f"{path}:{overrides['SING_USER_DEFINED_APPEND_PATH']}"
    return overrides["SING_USER_DEFINED_PATH"] or path


def _parse_inject(script: str) -> dict[str, str]:
    """The overrides back from inject_script's output, without shell evaluation.

    It runs in the container, where the host's standard library is out of reach: no
    import may happen here.
    """
    overrides = {}
    position = 0
    while script.startswith("export ", position):
        equals = script.index("=", position)
        name = script[position + len("export "):equals]
        value, position = _unquote(script, equals + 1)
        overrides[name] = value
        position += 1
    return overrides


def _unquote(script: str, start: int) -> tuple[str, int]:
    """The word inject_script quoted at start, and the index just after it."""
    if script[start] == "'":
        pieces, position = [], start
        while True:
            end = script.index("'", position + 1)
            pieces.append(script[position + 1:end])
            if not script.startswith("'\"'\"'", end):
                return "'".join(pieces), end + 1
            position = end + 4
    pieces, position = [], start + 1
    while script[position] != '"':
        if script.startswith("\\\n", position):
            position += 2
            continue
        if script[position] == "\\" and script[position + 1] in '"\\$`':
            position += 1
        pieces.append(script[position])
        position += 1
    return "".join(pieces), position + 1
