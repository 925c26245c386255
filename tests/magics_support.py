"""Helpers of the magics tests: run cells in a real kernel as an identity, and read what
each cell showed."""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

DRIVER = Path(__file__).resolve().parent / "magics_driver.py"
BUSYBOX_DEFINITION = "Bootstrap: busybox\nMirrorURL: file:///bin/busybox\n"


@dataclass
class Cell:
    """What one executed cell sent: its iopub messages and its reply."""

    messages: list[dict]
    reply: dict

    @property
    def stdout(self) -> str:
        return self._stream("stdout")

    @property
    def stderr(self) -> str:
        return self._stream("stderr")

    @property
    def status(self) -> str:
        return self.reply["content"]["status"]

    @property
    def error(self) -> dict:
        """ename, evalue and traceback of the cell's error, from its reply (a UsageError
        has no error message, only a line on stderr), or {} when it had none."""
        content = self.reply["content"]
        return {key: content[key] for key in ("ename", "evalue", "traceback")} \
            if content["status"] == "error" else {}

    @property
    def result(self) -> str:
        found = [m["content"]["data"]["text/plain"] for m in self.messages
                 if m["msg_type"] == "execute_result"]
        return found[0] if found else ""

    def _stream(self, name: str) -> str:
        return "".join(m["content"]["text"] for m in self.messages
                       if m["msg_type"] == "stream" and m["content"]["name"] == name)


def run_cells(identity, *steps: str | dict, env: dict[str, str] | None = None,
              load_ext: bool = True) -> list:
    """Run the steps (a string is a cell's code) in a fresh kernel in identity's workdir,
    after `%load_ext jupytainer` unless not load_ext: a Cell for each cell, the list of
    matches for each completion."""
    plan = [{"code": step} if isinstance(step, str) else step for step in steps]
    plan_file = identity.workdir / "steps.json"
    plan_file.write_text(json.dumps(plan))
    identity.make_owned(plan_file)
    flags = [] if load_ext else ["--no-load-ext"]
    result = identity.run([sys.executable, DRIVER, plan_file, *flags], env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return [Cell(r["messages"], r["reply"]) if "reply" in r else r["matches"]
            for r in json.loads(result.stdout)]


def busybox(body: str = "") -> str:
    """A quick definition: busybox from the host, then the given sections."""
    return BUSYBOX_DEFINITION + "\n" + body
