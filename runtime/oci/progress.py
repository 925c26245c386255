"""What the user sees while layers download and unpack: one aligned line per step
(`layer 2/5: 3f2a1c9: downloading`), or on a terminal one live bar per layer."""

import sys
import threading
import time
from typing import TextIO

from jupytainer.runtime import log

_BAR = 24
_REDRAW_SECONDS = 0.1


class LayerProgress:
    """The display for the layers of one image; thread-safe, since layers download at once."""

    def __init__(self, digests: list[str], sizes: list[int], stream: TextIO | None = None,
                 live: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = log.level >= log.NORMAL
        self.live = self.enabled and (self.stream.isatty() if live is None else live)
        self.digests = digests
        self.sizes = sizes
        self.lines = [self._label(index) + "waiting" for index in range(len(digests))]
        self._lock = threading.Lock()
        self._drawn = [0.0] * len(digests)
        if self.live:
            self.stream.write("".join(line + "\n" for line in self.lines))
            self.stream.flush()

    def _label(self, index: int) -> str:
        width = len(str(len(self.digests)))
        return f"layer {index + 1:>{width}}/{len(self.digests)}: {self.digests[index]}: "

    def layer(self, index: int) -> "LayerLine":
        return LayerLine(self, index)

    def show(self, index: int, text: str, force: bool = True) -> None:
        if not self.enabled:
            return
        with self._lock:
            now = time.monotonic()
            if not force and now - self._drawn[index] < _REDRAW_SECONDS:
                return
            self._drawn[index] = now
            self.lines[index] = self._label(index) + text
            if self.live:
                # Limitation: the bars are redrawn relative to the cursor, so a warning
                # printed while layers download moves them down a line for good.
                up = len(self.lines) - index
                self.stream.write(f"\x1b[{up}A\r{self.lines[index]}\x1b[K\x1b[{up}B\r")
            elif force:
                self.stream.write(self.lines[index] + "\n")
            self.stream.flush()


class LayerLine:
    """One layer's line: what the fetch and the unpacker report about it."""

    def __init__(self, display: LayerProgress, index: int):
        self.display = display
        self.index = index

    def state(self, text: str) -> None:
        self.display.show(self.index, text)

    def advance(self, done: int) -> None:
        if not self.display.live:
            return
        size = self.display.sizes[self.index]
        fraction = min(done / size, 1.0) if size > 0 else 0.0
        filled = int(fraction * _BAR)
        bar = "=" * filled + (">" if filled < _BAR else "") + " " * (_BAR - filled - 1)
        self.display.show(self.index, f"downloading [{bar}] {_mib(done)}/{_mib(size)} MiB",
                          force=done >= size)


def _mib(count: int) -> str:
    return f"{max(count, 0) / (1 << 20):.1f}"
