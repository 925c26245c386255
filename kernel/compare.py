"""Comparing a notebook's stored outputs with those of a re-run, cell by cell: text as a
unified diff, images and other binary outputs by their SHA-256, after normalising what
differs between any two runs of the same code (timings, memory addresses, random ids,
execution counts, terminal colours)."""

import base64
import binascii
import difflib
import hashlib
import json
import re
from dataclasses import dataclass

# (pattern, replacement), applied in order to every text output.
NORMALISATIONS = [
    (re.compile(r"\x1b\[[0-9;]*[A-Za-z]"), ""),
    (re.compile(r"\b0x[0-9a-fA-F]{6,}\b"), "0x<address>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<uuid>"),
    (re.compile(r"\b(Cell|Input) In ?\[\d*\]"), r"\1 In [n]"),
    (re.compile(r"\[\d+:\d+<[\d:?]+, *[\d.]+ ?(?:it/s|s/it)\]"), "[<progress>]"),
]
# Lines that report how long something took (%time, %timeit, "took", "elapsed"): their
# durations are timings. A duration anywhere else may be a result, and is compared.
TIMING_LINE = re.compile(r"Wall time|CPU times|per loop|\btook\b|\belapsed\b", re.I)
DURATION = re.compile(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?\s?(?:ns|µs|us|ms|s|sec|seconds|min)\b")
# Outputs shown as text; every other MIME type is compared by hash.
_TEXT_TYPES = ("text/", "application/json", "application/javascript")


@dataclass
class CellChange:
    """One code cell whose outputs differ: its position, id and a unified diff."""

    index: int
    cell_id: str
    diff: list[str]

    def describe(self) -> str:
        name = f"cell {self.index + 1}" + (f" (id {self.cell_id})" if self.cell_id else "")
        return "\n".join([f"{name}: outputs changed", *("    " + line for line in self.diff)])


def changed_cells(stored: list[dict], reproduced: list[dict]) -> list[CellChange]:
    """The code cells whose normalised outputs differ, in order (cells pair by position:
    a re-run has the same cells as the notebook it came from)."""
    changes = []
    for index, (before, after) in enumerate(zip(stored, reproduced)):
        if before.get("cell_type") != "code":
            continue
        old, new = rendered(before.get("outputs", [])), rendered(after.get("outputs", []))
        if old != new:
            diff = difflib.unified_diff(old, new, "stored", "reproduced", lineterm="")
            changes.append(CellChange(index, before.get("id", ""), list(diff)))
    return changes


def rendered(outputs: list[dict]) -> list[str]:
    """A cell's outputs as comparable lines: one header line per output or MIME type,
    then its normalised text, or the hash of binary data."""
    lines: list[str] = []
    for output in _merged_streams(outputs):
        kind = output.get("output_type")
        if kind == "stream":
            lines += [f"[{output.get('name', 'stdout')}]", *_text_lines(output.get("text"))]
        elif kind == "error":
            lines.append(f"[error] {output.get('ename')}: {normalise(str(output.get('evalue')))}")
            lines += normalise("\n".join(output.get("traceback") or [])).splitlines()
        elif kind in ("execute_result", "display_data"):
            lines += _data_lines(output.get("data", {}))
    return lines


def normalise(text: str) -> str:
    for pattern, replacement in NORMALISATIONS:
        text = pattern.sub(replacement, text)
    return "".join(DURATION.sub("<time>", line) if TIMING_LINE.search(line) else line
                   for line in text.splitlines(keepends=True))


def _merged_streams(outputs: list[dict]) -> list[dict]:
    """Consecutive writes to one stream as one output: how a kernel splits them varies."""
    merged: list[dict] = []
    for output in outputs:
        previous = merged[-1] if merged else {}
        if (output.get("output_type") == "stream" and previous.get("output_type") == "stream"
                and previous.get("name") == output.get("name")):
            previous["text"] = _joined(previous.get("text")) + _joined(output.get("text"))
        else:
            merged.append(dict(output))
    return merged


def _data_lines(data: dict) -> list[str]:
    lines = []
    for mime in sorted(data):
        if mime.startswith(_TEXT_TYPES) or mime.endswith("+json") or mime.endswith("+xml"):
            lines += [f"[{mime}]", *_text_lines(_textual(data[mime]))]
        else:
            lines.append(f"[{mime}] sha256:{_binary_hash(data[mime])}")
    return lines


def _text_lines(value) -> list[str]:
    return normalise(_joined(value)).splitlines()


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _textual(value) -> str:
    if isinstance(value, (dict, int, float, bool)) or value is None:
        return json.dumps(value, indent=1, sort_keys=True)
    return _joined(value)


def _binary_hash(value) -> str:
    """The SHA-256 of binary data, which notebooks store base64-encoded."""
    text = _joined(value)
    try:
        raw = base64.b64decode(text.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raw = text.encode()
    return hashlib.sha256(raw).hexdigest()
