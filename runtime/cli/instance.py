"""`jupytainer instance start|run|list|stop`: containers that run detached, by name, with
Apptainer's flags, defaults and messages."""

import argparse
import json
import signal

from jupytainer.runtime.errors import JupytainerError


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    """The four sub-commands and their flags."""
    from jupytainer.runtime.cli.actions import add_runtime_flags

    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command, script in (("start", "startscript"), ("run", "runscript")):
        starter = commands.add_parser(command, help=f"start an instance running the "
                                      f"image's {script}")
        add_runtime_flags(starter)
        starter.add_argument("--pid-file", help="write the instance's PID to this file")
        starter.add_argument("image", help="a SIF image or a sandbox directory")
        starter.add_argument("name", help="the instance's name (letters, digits, . _ -)")
        starter.add_argument("args", nargs=argparse.REMAINDER,
                             help=f"arguments for the {script}")

    lister = commands.add_parser("list", help="list your running instances")
    lister.add_argument("pattern", nargs="?", default="*", help="a glob of names")
    lister.add_argument("-j", "--json", action="store_true", help="print JSON")
    lister.add_argument("-l", "--logs", action="store_true", help="show the log files")

    stopper = commands.add_parser("stop", help="stop instances")
    stopper.add_argument("pattern", nargs="?", help="a name or a glob of names")
    stopper.add_argument("-a", "--all", action="store_true", help="stop all your instances")
    stopper.add_argument("-s", "--signal", default="SIGINT",
                         help="the signal to send (name or number; default SIGINT)")
    stopper.add_argument("-F", "--force", action="store_true", help="kill at once")
    stopper.add_argument("-t", "--timeout", type=float, default=10.0,
                         help="seconds to wait before killing (default 10)")


def run(args: argparse.Namespace) -> int:
    return {"start": _start, "run": _start, "list": _list, "stop": _stop}[args.command](args)


def _start(args: argparse.Namespace) -> int:
    from jupytainer.runtime import log
    from jupytainer.runtime.cli.actions import options_from
    from jupytainer.runtime.instances import start_instance

    pid_file = _open_pid_file(args.pid_file) if args.pid_file else None
    instance = start_instance(args.image, args.name, args.args, options_from(args),
                              action=args.command)
    if pid_file is not None:
        with pid_file:
            pid_file.write(f"{instance.pid}\n")
    log.info("instance started successfully")
    return 0


def _open_pid_file(path: str):
    """Opened before the start, so that a path that cannot be written starts nothing."""
    try:
        return open(path, "w")
    except OSError as failure:
        raise JupytainerError(f"cannot write the PID file {path}: {failure.strerror}: "
                              "choose another --pid-file") from None


def _list(args: argparse.Namespace) -> int:
    from jupytainer.runtime.instances import list_instances

    instances = list_instances(args.pattern)
    if args.json:
        print(json.dumps({"instances": [
            {"instance": i.name, "pid": i.pid, "img": i.image, "ip": i.ip,
             "logErrPath": i.log_err, "logOutPath": i.log_out} for i in instances]},
            indent=4))
        return 0
    if args.logs:
        rows = [("INSTANCE NAME", "PID", "LOGS")]
        rows += [(i.name, str(i.pid), f"{i.log_err}\n{i.log_out}") for i in instances]
    else:
        rows = [("INSTANCE NAME", "PID", "IP", "IMAGE")]
        rows += [(i.name, str(i.pid), i.ip, i.image) for i in instances]
    _print_table(rows)
    return 0


def _print_table(rows: list[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell plus four spaces, as Apptainer's tabwriter; a
    cell of two lines (the logs) continues on the next line under its column."""
    widths = [max(len(row[i].split("\n")[0]) for row in rows) + 4 for i in range(len(rows[0]))]
    for row in rows:
        first = [cell.split("\n")[0] for cell in row]
        print("".join(c.ljust(w) for c, w in zip(first[:-1], widths)) + first[-1])
        for extra in row[-1].split("\n")[1:]:
            print(" " * sum(widths[:-1]) + extra)


def _stop(args: argparse.Namespace) -> int:
    from jupytainer.runtime import log
    from jupytainer.runtime.instances import check_name, list_instances, stop_instance

    if args.all == bool(args.pattern):
        raise JupytainerError("instance stop needs a name, a glob of names, or --all")
    number = signal.SIGKILL if args.force else _signal_number(args.signal)
    pattern = "*" if args.all else args.pattern
    if not any(c in pattern for c in "*?["):
        check_name(pattern)
    instances = list_instances(pattern)
    if not instances and not args.all:
        raise JupytainerError(f"no instance matches {pattern}: see 'jupytainer instance list'")
    for instance in instances:
        log.info(f"Stopping {instance.name} instance of {instance.image} (PID={instance.pid})")
        stop_instance(instance, number, args.timeout)
    return 0


def _signal_number(spec: str) -> int:
    """SIGTERM, TERM, term or 15."""
    if spec.isdigit():
        number = int(spec)
        if number in {int(s) for s in signal.valid_signals()}:
            return number
    else:
        name = spec.upper() if spec.upper().startswith("SIG") else "SIG" + spec.upper()
        if isinstance(getattr(signal.Signals, name, None), signal.Signals):
            return int(getattr(signal.Signals, name))
    raise JupytainerError(f"unknown signal {spec}: give a name such as SIGTERM or a number")
