"""Tab completion for `%container`, `%%apptainer` and `%%def`: verbs, then the verb's flags
(read from the command line's own parser, so they never drift), then image paths."""

import argparse
import glob
import importlib
import os

from jupytainer.kernel.magics.commands import CELL_VERBS, LINE_VERBS

MAGICS = {"%container": tuple(LINE_VERBS), "container": tuple(LINE_VERBS),
          "%%apptainer": CELL_VERBS, "%%def": ()}
IMAGE_SUFFIXES = (".sif", ".simg", ".img")


def complete(shell, event) -> list[str]:
    """IPython's `complete_command` hook: the completions of the word being typed."""
    words = event.text_until_cursor.split()
    if event.text_until_cursor.endswith((" ", "\t")):
        words.append("")
    verbs = MAGICS.get(words[0], ())
    typed = words[-1]
    if verbs and len(words) == 2:
        return [verb for verb in verbs if verb.startswith(typed)]
    if words[0] == "%%def" and len(words) == 2:
        return definition_names(typed)
    verb = "build" if words[0] == "%%def" else words[1] if len(words) > 1 else ""
    if typed.startswith("-"):
        return [flag for flag in flags(verb, words[2:-1]) if flag.startswith(typed)]
    if verb == "instance" and len(words) == 3:
        return [command for command in ("start", "stop", "list", "run")
                if command.startswith(typed)]
    return image_paths(typed)


def flags(verb: str, earlier: list[str]) -> list[str]:
    """The option strings `jupytainer VERB` accepts (of its subcommand, when it has them)."""
    argv = LINE_VERBS.get(verb, [verb])
    try:
        parser = _parser(argv[0])
    except (KeyError, ImportError):
        return []
    for word in [*argv[1:], *earlier[:1]]:
        parser = _subparsers(parser).get(word, parser)
    # argparse lists a parser's options only in its private _actions.
    return sorted(option for action in parser._actions for option in action.option_strings)


def definition_names(typed: str) -> list[str]:
    """The names of the definition files here, as %%def takes them (without .def)."""
    return sorted(path.removesuffix(".def") for path in glob.glob(typed + "*.def"))


def image_paths(typed: str) -> list[str]:
    """Images and directories (sandboxes, or folders on the way to an image)."""
    found = []
    for path in sorted(glob.glob(os.path.expanduser(typed) + "*")):
        if os.path.isdir(path):
            found.append(path + "/")
        elif path.endswith(IMAGE_SUFFIXES):
            found.append(path)
    return found


def _parser(verb: str) -> argparse.ArgumentParser:
    from jupytainer.runtime.cli import VERBS

    parser = argparse.ArgumentParser(prog=f"jupytainer {verb}")
    importlib.import_module(VERBS[verb][0]).configure(parser, verb)
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}
