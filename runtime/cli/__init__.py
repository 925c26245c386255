"""The `jupytainer` command line: global flags, then one verb, each verb in its own module.

Only the module of the verb being run is imported, so `jupytainer exec` does not pay for
the builder or the Jupyter side. Adding a verb is one line in VERBS and a module that
defines `configure(parser, verb)` and `run(args) -> int`; one module may serve several
verbs (exec, run, shell, test), and finds which in `args.verb`.
"""

import argparse
import importlib
import sys

from jupytainer import __version__
from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError

# verb -> (module that implements it, one-line summary for `jupytainer --help`)
VERBS: dict[str, tuple[str, str]] = {
    "build": ("jupytainer.runtime.cli.build", "Build a SIF image or sandbox from a definition "
              "file or an image"),
    "sif": ("jupytainer.runtime.cli.sif", "Inspect and edit SIF files, as siftool does"),
    "pull": ("jupytainer.runtime.cli.pull", "Save an image from a registry, OCI layout or "
             "archive as a SIF file"),
    "cache": ("jupytainer.runtime.cli.cache", "List or clean the cache of downloaded and "
              "extracted images"),
    "push": ("jupytainer.runtime.cli.push", "Upload a SIF file to an OCI registry (oras://)"),
    "exec": ("jupytainer.runtime.cli.actions", "Run a command in a container"),
    "run": ("jupytainer.runtime.cli.actions", "Run a container's runscript"),
    "shell": ("jupytainer.runtime.cli.actions", "Start an interactive shell in a container"),
    "test": ("jupytainer.runtime.cli.actions", "Run a container's test script"),
    "instance": ("jupytainer.runtime.cli.instance", "Start, list and stop containers that run "
                 "detached (services), by name"),
    "inspect": ("jupytainer.runtime.cli.inspect", "Show an image's labels, scripts, help and "
                "environment"),
    "run-help": ("jupytainer.runtime.cli.inspect", "Show the help of an image's runscript"),
    "kernel": ("jupytainer.kernel.cli", "Install, list and remove Jupyter kernels that run in "
               "an image"),
    "pin": ("jupytainer.kernel.publish_cli", "Pin a notebook to the SIF image it runs in"),
    "publish": ("jupytainer.kernel.publish_cli", "Bundle a pinned notebook with its image and "
                "data for a reviewer"),
    "reproduce": ("jupytainer.kernel.publish_cli", "Re-run a pinned notebook or bundle and "
                  "report the outputs that changed"),
}

EXIT_USAGE = 255


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    global_args, verb_args = _split_global(argv)
    options, unknown = _global_parser().parse_known_args(global_args)
    log.set_level(_verbosity(options))
    if unknown:
        log.fatal(f"unknown global option {unknown[0]}: run 'jupytainer --help'")
        return EXIT_USAGE
    if options.version:
        print(f"jupytainer version {__version__}")
        return 0
    if options.help or verb_args[:1] == ["help"]:
        _print_overview()
        return 0
    if not verb_args:
        _print_overview()
        return EXIT_USAGE
    return _run_verb(verb_args[0], verb_args[1:], debug=options.debug)


def _split_global(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split the leading global flags from the verb and everything after it."""
    for index, word in enumerate(argv):
        if not word.startswith("-"):
            return argv[:index], argv[index:]
    return argv, []


def _global_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jupytainer", add_help=False)
    parser.add_argument("-d", "--debug", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("-s", "--silent", action="store_true")
    parser.add_argument("--version", action="store_true")
    parser.add_argument("-h", "--help", action="store_true")
    return parser


def _verbosity(options: argparse.Namespace) -> int:
    if options.debug:
        return log.DEBUG
    if options.verbose:
        return log.VERBOSE
    if options.quiet or options.silent:
        return log.QUIET
    return log.NORMAL


def _print_overview() -> None:
    width = max(len(verb) for verb in VERBS)
    print("Usage: jupytainer [global options] <verb> [verb options]\n")
    print("Run Jupyter kernels and commands inside Apptainer-compatible SIF containers.\n")
    print("Verbs:")
    for verb, (_, summary) in VERBS.items():
        print(f"  {verb:<{width}}  {summary}")
    print("\nGlobal options:")
    print("  -d, --debug    show debugging output, with tracebacks")
    print("  -v, --verbose  show more about what happens")
    print("  -q, --quiet    show only warnings and errors")
    print("  --version      show the version and exit")
    print("\nRun 'jupytainer <verb> --help' for a verb's options.")


def _run_verb(verb: str, args: list[str], debug: bool) -> int:
    if verb not in VERBS:
        log.fatal(f"unknown verb '{verb}': run 'jupytainer --help' for the list")
        return EXIT_USAGE
    module = importlib.import_module(VERBS[verb][0])
    parser = argparse.ArgumentParser(prog=f"jupytainer {verb}", description=VERBS[verb][1])
    module.configure(parser, verb)
    parser.set_defaults(verb=verb)
    try:
        options = parser.parse_args(args)
    except SystemExit as stop:
        return 0 if stop.code == 0 else EXIT_USAGE
    try:
        return module.run(options)
    except JupytainerError as failure:
        if debug:
            raise
        log.fatal(str(failure))
        return failure.exit_status
    except KeyboardInterrupt:
        log.fatal("interrupted")
        return 130
