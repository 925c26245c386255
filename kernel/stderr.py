"""A container kernel's standard error, passed on to the server's and remembered in part:
the last lines say why a kernel that died while starting could not run."""

import sys
import threading
from collections import deque
from typing import BinaryIO

KEPT_LINES = 40


class StderrTail:
    """Copies a kernel's stderr pipe to this process's stderr in a thread of its own, and
    keeps its last lines. The thread ends when every writer has closed the pipe."""

    def __init__(self, pipe: BinaryIO, label: str) -> None:
        self._pipe = pipe
        self._label = label
        self._lines: deque[str] = deque(maxlen=KEPT_LINES)
        self._thread = threading.Thread(target=self._copy, name=f"stderr of {label}",
                                        daemon=True)
        self._thread.start()

    def lines(self, settle: float = 0.5) -> list[str]:
        """The last lines seen; waits up to settle seconds for a writer that has just
        ended, so that its final words are in."""
        self._thread.join(settle)
        return list(self._lines)

    def _copy(self) -> None:
        with self._pipe:
            for raw in self._pipe:
                line = raw.decode(errors="replace")
                self._lines.append(line.rstrip("\n"))
                try:
                    sys.stderr.write(line)
                    sys.stderr.flush()
                except (OSError, ValueError):
                    # The server's stderr is gone; keep draining so the kernel never blocks.
                    pass
