"""`x = %container ...` captures the output: a line transform that marks the assignment.

A line magic cannot see whether its value is assigned, and `!cmd` captures only because
IPython rewrites `x = !cmd` into a different call. This transform does the same for
`%container`: before IPython turns `x = %container ...` into a magic call, it adds the
capture flag, so the magic returns the lines instead of showing them.
"""

import re

from jupytainer.kernel.magics.commands import CAPTURE

# Limitation: only an assignment on the magic's own line is seen (`x = %container ...`,
# `a, b = ...`); a magic called inside an expression cannot know it is captured.
ASSIGNED = re.compile(r"^(\s*[\w.,\s\[\]()*]+?\s*=\s*%container)(\s)")


def mark_captures(lines: list[str]) -> list[str]:
    """IPython's cleanup transform: the cell's lines, with assigned %container calls marked
    (not in a cell magic's body, which is text for that magic)."""
    if lines and lines[0].lstrip().startswith("%%"):
        return lines
    return [ASSIGNED.sub(rf"\1 {CAPTURE}\2", line, count=1) for line in lines]
