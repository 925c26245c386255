"""Layer progress: plain aligned lines when output is not a terminal, one bar per layer
redrawn in place on a terminal."""

import io

from jupytainer.runtime import log
from jupytainer.runtime.oci.progress import LayerProgress

DIGESTS = [f"{index:07x}" for index in range(10)]


def test_plain_lines_are_aligned_and_skip_byte_counts():
    output = io.StringIO()
    display = LayerProgress(DIGESTS, [100] * 10, stream=output, live=False)
    display.layer(1).state("downloading")
    display.layer(1).advance(50)
    display.layer(9).state("unpacking")
    assert output.getvalue().splitlines() == ["layer  2/10: 0000001: downloading",
                                              "layer 10/10: 0000009: unpacking"]


def test_terminal_gets_one_bar_per_layer_redrawn_in_place():
    output = io.StringIO()
    display = LayerProgress(DIGESTS[:2], [1 << 20, 2 << 20], stream=output, live=True)
    assert output.getvalue() == "layer 1/2: 0000000: waiting\nlayer 2/2: 0000001: waiting\n"
    display.layer(0).advance(1 << 20)
    drawn = output.getvalue().split("\n", 2)[2]
    assert drawn.startswith("\x1b[2A\r") and drawn.endswith("\x1b[K\x1b[2B\r")
    assert "layer 1/2: 0000000: downloading [========================] 1.0/1.0 MiB" in drawn


def test_quiet_shows_no_progress():
    output = io.StringIO()
    log.set_level(log.QUIET)
    try:
        LayerProgress(DIGESTS[:1], [1], stream=output, live=True).layer(0).state("done")
    finally:
        log.set_level(log.NORMAL)
    assert output.getvalue() == ""
