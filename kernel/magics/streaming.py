"""Run a `jupytainer` command from a magic, streaming its output into the cell as it comes.

The command runs as a child process (the same Python, `-m jupytainer`), so a build or a
container never shares the kernel's process, and its output is read from pipes and written
to `sys.stdout`/`sys.stderr` with a flush after each read: that works in any IPython front
end, not only where ipykernel captures file descriptors.
"""

import codecs
import os
import re
import selectors
import signal
import subprocess
import sys
from dataclasses import dataclass, field

from jupytainer.kernel.magics.errors import MagicError

FATAL = "FATAL:"
# A FATAL log line, or the error line of the command line's argument parser.
ERROR_LINE = re.compile(r"^(FATAL:\s*|(jupytainer[\w -]*): error: )")
READ_SIZE = 4096
# How long each step of stopping an interrupted child may take before the next, harsher one.
STOP_GRACE = 2.0


@dataclass
class Outcome:
    """What a finished command left: its status, its captured standard output (when asked
    for) and the message of its last FATAL line (held back from the cell's output)."""

    status: int
    stdout: str = ""
    fatal: str | None = None


@dataclass
class _Stream:
    """One of the child's pipes: where its text goes, decoded incrementally."""

    sink: object | None
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    pending: str = ""
    kept: list[str] = field(default_factory=list)


def jupytainer_command(*args: str) -> list[str]:
    """argv of the jupytainer command line in this kernel's own Python."""
    return [sys.executable, "-m", "jupytainer", *args]


def run_streaming(argv: list[str], what: str, *, capture: bool = False,
                  stdin: str | None = None, cwd: str | None = None) -> Outcome:
    """Run argv; stream its stderr (and its stdout unless capture) into the cell.

    stdin is a file whose contents the command reads, or None for no input at all (a
    kernel has no terminal). A kernel interrupt stops the child, then raises MagicError
    naming what (say, 'the build of x.sif') was interrupted.
    """
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(stdin or os.devnull, "rb") as source:
        child = subprocess.Popen(argv, stdin=source, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, cwd=cwd, env=environment)
    out = _Stream(None if capture else sys.stdout)
    err = _Stream(sys.stderr)
    try:
        _pump(child, out, err)
        status = child.wait()
    except KeyboardInterrupt:
        _stop(child)
        raise MagicError(f"interrupted: stopped {what}") from None
    finally:
        child.stdout.close()
        child.stderr.close()
    return Outcome(status, "".join(out.kept), _last_fatal(err.kept))


def _pump(child: subprocess.Popen, out: _Stream, err: _Stream) -> None:
    """Copy both pipes until both reach their end."""
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ, out)
        selector.register(child.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            for key, _ in selector.select():
                data = os.read(key.fileobj.fileno(), READ_SIZE)
                if not data:
                    selector.unregister(key.fileobj)
                _deliver(key.data, key.data.decoder.decode(data, final=not data))


def _deliver(stream: _Stream, text: str) -> None:
    """Write text to the stream's sink at once, except FATAL lines (and what could still
    become one), which are kept: they are the error message, not log output."""
    if stream.sink is None:
        stream.kept.append(text)
        return
    stream.pending += text
    lines = stream.pending.split("\n")
    stream.pending = lines.pop()
    shown = []
    for line in lines:
        if ERROR_LINE.match(line):
            stream.kept.append(line + "\n")
        else:
            shown.append(line + "\n")
    if stream.pending and (not text or not _may_become_fatal(stream.pending)):
        (stream.kept if stream.pending.startswith(FATAL) else shown).append(stream.pending)
        stream.pending = ""
    if shown:
        stream.sink.write("".join(shown))
        stream.sink.flush()


def _may_become_fatal(partial: str) -> bool:
    return partial.startswith(FATAL) or FATAL.startswith(partial)


def _last_fatal(lines: list[str]) -> str | None:
    """The message of the last error line, with the program's name for a usage error."""
    for line in reversed(lines):
        found = ERROR_LINE.match(line)
        if found:
            message = line[found.end():].strip()
            return f"{found.group(2)}: {message}" if found.group(2) else message
    return None


def _stop(child: subprocess.Popen) -> None:
    """Interrupt, then terminate, then kill the child, each after a grace period, as a
    terminal's Ctrl-C then a harder stop would."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if child.poll() is not None:
            return
        child.send_signal(signum)
        try:
            child.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            continue
