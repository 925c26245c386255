"""The `jupytainer` command line: global flags, then one verb, each verb in its own module.

Only the module of the verb being run is imported, so `jupytainer exec` does not pay for
the builder or the Jupyter side. Adding a verb is one line in VERBS and a module that
defines `configure(parser, verb)` and `run(args) -> int`; one module may serve several
verbs (exec, run, shell, test), and finds which in `args.verb`. A verb module may also
define `quick_parse(verb, words)`, which parses plain command lines without argparse (see
quickparse) so that starting a container stays fast; argparse handles everything else.
"""

import importlib
import os
import sys

from jupytainer import __version__
from jupytainer.runtime import log
from jupytainer.runtime.cli import quickparse
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

# The global flags: spellings -> destination.
GLOBAL_FLAGS = [
    (("-d", "--debug"), "debug"),
    (("-v", "--verbose"), "verbose"),
    (("-q", "--quiet"), "quiet"),
    (("-s", "--silent"), "silent"),
    (("--version",), "version"),
    (("-h", "--help"), "help"),
]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        status = _main(argv)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader went away (`jupytainer --help | head`): say nothing more to it, not even
        # at exit, when Python flushes what is left.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _main(argv: list[str]) -> int:
    global_args, verb_args = _split_global(argv)
    options, unknown = _parse_global(global_args)
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


def _parse_global(words: list[str]) -> tuple[object, list[str]]:
    """The global options and the words that are none of them."""
    flags = {flag: (quickparse.SWITCH, dest) for spellings, dest in GLOBAL_FLAGS
             for flag in spellings}
    found = quickparse.parse(words, flags, [])
    if found is None:
        return _global_parser().parse_known_args(words)

    import types

    values = {dest: False for _, dest in GLOBAL_FLAGS}
    return types.SimpleNamespace(**{**values, **found}), []


def _global_parser() -> "argparse.ArgumentParser":
    import argparse

    parser = argparse.ArgumentParser(prog="jupytainer", add_help=False)
    for spellings, dest in GLOBAL_FLAGS:
        parser.add_argument(*spellings, dest=dest, action="store_true")
    return parser


def _verbosity(options: "argparse.Namespace") -> int:
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
    quick_parse = getattr(module, "quick_parse", None)
    options = quick_parse(verb, args) if quick_parse else None
    if options is None:
        try:
            options = verb_parser(verb, module).parse_args(args)
        except SystemExit as stop:
            return 0 if stop.code == 0 else EXIT_USAGE
    options.verb = verb
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


def verb_parser(verb: str, module) -> "argparse.ArgumentParser":
    """The argparse parser of a verb, as its module configures it."""
    import argparse

    class Parser(argparse.ArgumentParser):
        """Reports a mistyped flag or subcommand as one FATAL line, like every other mistake
        (argparse's own report is the whole usage block); subcommand parsers inherit it."""

        def error(self, message: str):
            log.fatal(f"{self.prog}: {message}: run '{self.prog} --help'")
            sys.exit(2)

    parser = Parser(prog=f"jupytainer {verb}", description=VERBS[verb][1])
    module.configure(parser, verb)
    parser.set_defaults(verb=verb)
    return parser
