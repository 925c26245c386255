"""The magics themselves: `%%apptainer`, `%%def` and `%container`, each a thin front end that
runs the `jupytainer` command line with the cell's text, streaming what it prints."""

import os
import shlex
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.utils.text import SList

from jupytainer.kernel.magics import reuse
from jupytainer.kernel.magics.errors import MagicError
from jupytainer.kernel.magics.streaming import Outcome, jupytainer_command, run_streaming

# Verbs of %%apptainer: build takes the cell as its definition, the others as their stdin.
CELL_VERBS = ("build", "exec", "run", "shell")
# Verbs of %container, and what each becomes on the command line.
LINE_VERBS = {"exec": ["exec"], "run": ["run"], "test": ["test"], "inspect": ["inspect"],
              "run-help": ["run-help"], "instance": ["instance"],
              "kernel": ["kernel", "install"]}
# Put in front of the arguments (by the assignment transformer) to capture standard output.
CAPTURE = "--capture"


@magics_class
class ContainerMagics(Magics):
    """Build SIF images and run containers from a notebook."""

    @cell_magic("apptainer")
    def apptainer(self, line: str, cell: str) -> None:
        """Run a jupytainer verb on the cell.

        %%apptainer build [build flags] TARGET.sif
            the cell is a definition file; builds TARGET.sif, streaming the build log.
        %%apptainer exec [flags] IMAGE COMMAND...
        %%apptainer run [flags] IMAGE [ARGS...]
        %%apptainer shell [flags] IMAGE
            the cell is the standard input of the command, the runscript or the shell
            (so `%%apptainer shell IMAGE` runs the cell as a shell script in IMAGE).

        $name and {expression} in this line are expanded ($$ is a literal $); the cell
        is not. A failure raises MagicError with a one-line message; an interrupt stops
        the child.
        """
        words = _split(line)
        if not words or words[0] not in CELL_VERBS:
            raise UsageError(f"%%apptainer takes one of {', '.join(CELL_VERBS)}: "
                             "%%apptainer build [flags] TARGET.sif")
        if words[0] == "build":
            _build_cell(cell, words[1:])
            return
        _require_image(words, "%%apptainer")
        with _cell_file(cell, ".txt") as stdin:
            outcome = run_streaming(jupytainer_command(*words), f"{words[0]} in the container",
                                    stdin=stdin)
        _check(outcome, words)

    @cell_magic("def")
    def define(self, line: str, cell: str) -> None:
        """%%def NAME [--force] [build flags]

        Save the cell as NAME.def in the working directory and build NAME.sif from it.
        Running the cell again reuses NAME.sif when nothing that decides the image changed:
        the definition, the build flags and the files its %files sections copy (the key is
        kept in NAME.sif.build.json). --force rebuilds anyway. The line is expanded as
        for %%apptainer: `%%def tool --build-arg base=$base`.
        """
        words = _split(line)
        if not words or words[0].startswith("-"):
            raise UsageError("%%def needs a name first: %%def NAME [--force] [build flags]")
        name, flags = words[0].removesuffix(".def"), words[1:]
        force = "--force" in flags or "-F" in flags
        flags = [flag for flag in flags if flag not in ("--force", "-F")]
        definition, image = Path(f"{name}.def"), Path(f"{name}.sif")
        definition.write_text(cell)

        key = reuse.build_key(cell, flags, os.getcwd())
        if not force and reuse.is_current(image, key):
            print(f"{image} is up to date with {definition}: reused (--force rebuilds it)")
            return
        reuse.forget(image)
        _build(["--force", *flags, str(image), str(definition)], image)
        reuse.remember(image, key)

    @line_magic("container")
    def container(self, line: str) -> SList | None:
        """%container VERB [flags] IMAGE [ARGS...]

        Verbs: exec, run, test, inspect, run-help (as `jupytainer VERB`);
        instance start|stop|list ... (as `jupytainer instance`);
        kernel IMAGE [--name NAME] [--display-name TEXT] [runtime flags] (installs a
        Jupyter kernel that runs in IMAGE, as `jupytainer kernel install`; for this user
        unless --sys-prefix or --prefix DIR says otherwise).

        $name and {expression} are expanded as in shell escapes. Output is streamed;
        `x = %container exec IMAGE cmd` captures the standard output as a list of lines
        (an SList, as `x = !cmd` does) instead of showing it. A command that fails raises
        MagicError with a one-line message (captured or not: a notebook stops there).
        """
        words = _split(line)
        capture = words[:1] == [CAPTURE]
        words = words[1:] if capture else words
        if words[:1] == ["shell"]:
            raise UsageError("a kernel has no terminal for an interactive shell: write the "
                             "commands in a cell under %%apptainer shell IMAGE")
        if not words or words[0] not in LINE_VERBS:
            raise UsageError(f"%container takes one of {', '.join(LINE_VERBS)}: "
                             "%container exec IMAGE COMMAND...")
        if words[0] != "instance":
            _require_image(words, "%container")
        argv = [*LINE_VERBS[words[0]], *words[1:], *_kernel_destination(words)]
        outcome = run_streaming(jupytainer_command(*argv), f"{words[0]}", capture=capture)
        _check(outcome, words)
        return SList(outcome.stdout.splitlines()) if capture else None


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as failure:
        raise UsageError(f"cannot split the magic's arguments: {failure}") from None


def _require_image(words: list[str], magic: str) -> None:
    if not [word for word in words[1:] if not word.startswith("-")]:
        raise UsageError(f"{magic} {words[0]} needs an image: {magic} {words[0]} [flags] IMAGE")


def _kernel_destination(words: list[str]) -> list[str]:
    """A kernel installed from a notebook is the user's, unless a destination is given."""
    chosen = {"--user", "--sys-prefix", "--prefix"} & {word.split("=")[0] for word in words}
    return ["--user"] if words[0] == "kernel" and not chosen else []


def _build_cell(cell: str, words: list[str]) -> None:
    if not words or words[-1].startswith("-"):
        raise UsageError("%%apptainer build needs a target last: "
                         "%%apptainer build [flags] TARGET.sif")
    with _cell_file(cell, ".def") as definition:
        _build([*words, definition], Path(words[-1]), shown={definition: "the cell"})


def _build(args: list[str], target: Path, shown: dict[str, str] | None = None) -> None:
    """Build (args end with the target and the definition), then say what was made.
    shown renames paths in an error message (a temporary file is 'the cell')."""
    started = time.monotonic()
    outcome = run_streaming(jupytainer_command("build", *args), f"the build of {target}")
    if outcome.status != 0:
        message = outcome.fatal or f"the build of {target} failed (exit status " \
            f"{outcome.status})"
        for path, name in (shown or {}).items():
            message = message.replace(path, name)
        raise MagicError(message)
    print(f"Built {target}: {_size(target)} in {time.monotonic() - started:.1f} s", flush=True)


def _check(outcome: Outcome, words: list[str]) -> None:
    if outcome.status == 0:
        return
    if outcome.fatal:
        raise MagicError(outcome.fatal)
    raise MagicError(f"{' '.join(words[:1])} exited with status {outcome.status}")


def _size(target: Path) -> str:
    if target.is_dir():
        return "a sandbox directory"
    size = float(target.stat().st_size)
    if size < 1024:
        return f"{size:.0f} bytes"
    for unit in ("KiB", "MiB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GiB"


@contextmanager
def _cell_file(cell: str, suffix: str) -> Iterator[str]:
    """The cell's text in a temporary file, removed afterwards."""
    descriptor, path = tempfile.mkstemp(prefix="jupytainer-cell-", suffix=suffix)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(cell)
        yield path
    finally:
        os.unlink(path)
