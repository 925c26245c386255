"""The verbs that run something in a container: exec, run, shell and test.

Flags have Apptainer's names and meanings; each may also be set in the environment as
APPTAINER_<NAME>, JUPYTAINER_<NAME> or SINGULARITY_<NAME> (such as APPTAINER_CONTAIN=1).
"""

import os
import sys

from jupytainer.runtime.cli import quickparse
from jupytainer.runtime.errors import JupytainerError

ENV_PREFIXES = ("JUPYTAINER_", "APPTAINER_", "SINGULARITY_")
TRUE_WORDS = ("1", "true", "yes", "on")

# (flags, destination, help, environment name); the environment name sets the default.
SWITCHES = [
    (("--no-home",), "no_home", "do not mount the home directory", "NO_HOME"),
    (("-c", "--contain"), "contain", "use minimal /dev and empty home, /tmp and /var/tmp",
     "CONTAIN"),
    (("-C", "--containall"), "containall", "--contain, and clean environment and IPC",
     "CONTAINALL"),
    (("-e", "--cleanenv"), "cleanenv", "do not pass the host environment on", "CLEANENV"),
    (("--no-eval",), "no_eval", "take --env values and env files literally, without "
     "shell evaluation", "NO_EVAL"),
    (("-w", "--writable"), "writable", "make a sandbox image writable", "WRITABLE"),
    (("--writable-tmpfs",), "writable_tmpfs",
     "let the container write to a temporary layer over the image", "WRITABLE_TMPFS"),
    (("-f", "--fakeroot"), "fakeroot", "run as root inside, in a user namespace",
     "FAKEROOT"),
    (("--ipc", "-i"), "ipc", "use a new IPC namespace", "IPC"),
    (("--net", "-n"), "net", "use a new network namespace with only loopback", "NET"),
    (("--unsquash",), "unsquash", "extract the image into the cache instead of mounting it",
     "UNSQUASH"),
    # Accepted for Apptainer's command lines; jupytainer always does these.
    (("-p", "--pid"), "pid", "use a new PID namespace (always done)", "PID"),
    (("-u", "--userns"), "userns", "use a user namespace when not root (always done)",
     "USERNS"),
]
VALUES = [
    (("-H", "--home"), "home", "SRC[:DST]: the home directory to use", "HOME"),
    (("--pwd",), "pwd", "the initial working directory in the container", "PWD"),
    (("--hostname",), "hostname", "the container's host name (new UTS namespace)",
     "HOSTNAME"),
    (("--app",), "app", "run an app of a SCIF image", "APP"),
    (("--shell",), "shell", "the shell that the shell verb starts", "SHELL"),
]
LISTS = [
    (("-B", "--bind"), "binds", "SRC[:DST[:ro|rw]]: a bind mount (repeatable, comma lists)"),
    (("--env",), "env", "NAME=VALUE: set a variable in the container (repeatable)"),
    (("--env-file",), "env_files", "a file of variables to set (shell syntax)"),
    (("--no-env",), "no_env",
     "NAME: a host variable not to pass into the container (repeatable, comma lists)"),
    (("-o", "--overlay"), "overlays", "DIR[:ro]: an overlay directory (repeatable)"),
    (("--no-mount",), "no_mount",
     "a default mount to skip: proc, sys, dev, home, tmp, cwd, bind-paths, or a path"),
]
# Lists that the environment can also give, comma separated.
LIST_ENVIRONMENT = {"overlays": "OVERLAY", "env_files": "ENV_FILE", "no_mount": "NO_MOUNT",
                    "no_env": "NO_ENV"}


def configure(parser: "argparse.ArgumentParser", verb: str) -> None:
    """The flags of one of exec, run, shell, test."""
    import argparse

    add_runtime_flags(parser)
    parser.add_argument("image", help="a SIF image, a sandbox directory, or "
                        "instance://NAME (a running instance)")
    if verb == "exec":
        parser.add_argument("command", help="the command to run in the container")
    parser.add_argument("args", nargs=argparse.REMAINDER,
                        help="arguments for the command" if verb == "exec" else
                        "arguments for the container's script")


def quick_parse(verb: str, words: list[str]) -> "types.SimpleNamespace | None":
    """What configure's parser would make of words, when they are plain enough to parse
    without argparse (see quickparse); None otherwise."""
    import types

    positionals = ["image", "command"] if verb == "exec" else ["image"]
    found = quickparse.parse(words, _flag_kinds(), positionals, remainder="args")
    if found is None:
        return None
    options = {dest: _env_flag(env_name) for _, dest, _, env_name in SWITCHES}
    options.update({dest: _env_value(env_name) for _, dest, _, env_name in VALUES})
    options.update({dest: [] for _, dest, _ in LISTS})
    options.update(found)
    return types.SimpleNamespace(**options)


def _flag_kinds() -> dict[str, tuple[str, str]]:
    """Every spelling of the runtime flags -> (quickparse kind, destination)."""
    kinds = {}
    for table, kind in ((SWITCHES, quickparse.SWITCH), (VALUES, quickparse.VALUE),
                        (LISTS, quickparse.APPEND)):
        for flags, dest, *_ in table:
            kinds.update((flag, (kind, dest)) for flag in flags)
    return kinds


def add_runtime_flags(parser: "argparse.ArgumentParser") -> None:
    """The flags that say how a container runs (shared with `instance start`)."""
    for flags, dest, help_text, env_name in SWITCHES:
        parser.add_argument(*flags, dest=dest, action="store_true",
                            default=_env_flag(env_name), help=help_text)
    for flags, dest, help_text, env_name in VALUES:
        parser.add_argument(*flags, dest=dest, default=_env_value(env_name), help=help_text)
    for flags, dest, help_text in LISTS:
        parser.add_argument(*flags, dest=dest, action="append", default=[], help=help_text)


def run(args: "argparse.Namespace") -> int:
    """Run the verb's action in the image; exits with the payload's status."""
    from jupytainer.runtime import log
    from jupytainer.runtime.launch.launcher import launch

    arguments = list(args.args)
    if args.verb == "exec":
        arguments.insert(0, args.command)
    if args.verb == "shell" and arguments:
        log.warning("arguments to shell are ignored: use exec to run a command")
        arguments = []
    if args.image.startswith("instance://"):
        status = _join(args.image, args.verb, arguments, options_from(args))
    else:
        status = launch(args.image, args.verb, arguments, options_from(args))
    # This process has entered the container's namespaces and has nothing left to tidy:
    # skip the interpreter's teardown, which takes longer than starting the container.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _join(uri: str, action: str, arguments: list[str], options) -> int:
    """Run the action in a running instance's namespaces."""
    from jupytainer.runtime.instances import URI_PREFIX, get_instance
    from jupytainer.runtime.launch.join import join

    instance = get_instance(uri[len(URI_PREFIX):])
    options.instance = instance.name
    return join(instance.pid, instance.image, action, arguments, options)


def options_from(args: "argparse.Namespace"):
    """ContainerOptions from parsed flags (and the environment's defaults)."""
    from jupytainer.runtime.launch.options import ContainerOptions

    lists = {dest: list(getattr(args, dest)) for _, dest, _ in LISTS}
    for dest, env_name in LIST_ENVIRONMENT.items():
        value = _env_value(env_name)
        if value and not lists[dest]:
            lists[dest] = [item for item in value.split(",") if item]
    return ContainerOptions(
        binds=lists["binds"], home=args.home, no_home=args.no_home, contain=args.contain,
        containall=args.containall, cleanenv=args.cleanenv, env=_env_pairs(lists["env"]),
        env_files=lists["env_files"], pwd=args.pwd, writable=args.writable,
        writable_tmpfs=args.writable_tmpfs, overlays=lists["overlays"],
        fakeroot=args.fakeroot, hostname=args.hostname, ipc=args.ipc, net=args.net,
        no_mount=lists["no_mount"], unsquash=args.unsquash, app=args.app,
        no_env=[name for spec in lists["no_env"] for name in spec.split(",") if name],
        no_eval=args.no_eval, shell=args.shell)


def _env_pairs(specs: list[str]) -> dict[str, str]:
    """--env NAME=VALUE[,NAME2=VALUE2] items, in order (later ones win)."""
    pairs = {}
    for spec in specs:
        for item in _split_pairs(spec):
            name, equals, value = item.partition("=")
            if not equals:
                raise JupytainerError(f"--env {item!r} is not NAME=VALUE: fix the option")
            pairs[name] = value
    return pairs


def _split_pairs(spec: str) -> list[str]:
    """Split at the commas that start a new NAME=: a comma inside a value stays."""
    items: list[str] = []
    for part in spec.split(","):
        if items and "=" not in part:
            items[-1] += "," + part
        else:
            items.append(part)
    return items


def _env_value(name: str) -> str | None:
    for prefix in ENV_PREFIXES:
        value = os.environ.get(prefix + name)
        if value:
            return value
    return None


def _env_flag(name: str) -> bool:
    value = _env_value(name)
    return bool(value) and value.lower() in TRUE_WORDS


def run_singularity() -> None:
    """`run-singularity IMAGE ARGS`: what a SIF's launch script calls, as Apptainer's."""
    from jupytainer.runtime.cli import main

    sys.exit(main(["--quiet", "run", *sys.argv[1:]]))
