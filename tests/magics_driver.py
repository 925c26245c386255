"""Runs cells in a real IPython kernel with the jupytainer extension loaded, and prints
every message the kernel sent for each, as JSON. The magics tests run it as root or as the
unprivileged user, so the kernel (and the containers it starts) run as that identity.

    python magics_driver.py STEPS_JSON [--no-load-ext]

STEPS_JSON is a list of steps: {"code": ...} executes a cell ({"interrupt_on": TEXT} also
interrupts the kernel once TEXT has appeared in its output, {"touch_on": [TEXT, PATH]}
creates the file PATH then), {"complete": CODE} asks for
completions at the end of CODE. The kernel is the local `python3` kernel of this Python,
started in the current directory. Unless --no-load-ext, `%load_ext jupytainer` runs first.
"""

import json
import sys
from pathlib import Path

from jupyter_client.manager import start_new_kernel

TIMEOUT = 600


def execute(manager, client, step: dict) -> dict:
    """Run one cell; its iopub messages in arrival order, and its reply."""
    msg_id = client.execute(step["code"])
    messages, interrupted = [], False
    touch_text, touch_path = step.get("touch_on", [None, None])
    while True:
        message = client.get_iopub_msg(timeout=TIMEOUT)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(_plain(message))
        text = message["content"].get("text", "")
        if step.get("interrupt_on") and step["interrupt_on"] in text and not interrupted:
            manager.interrupt_kernel()
            interrupted = True
        if touch_text and touch_text in text:
            Path(touch_path).touch()
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    return {"messages": messages, "reply": _plain(_reply(client, msg_id))}


def complete(client, code: str) -> dict:
    reply = _reply(client, client.complete(code, len(code)))
    return {"matches": reply["content"]["matches"]}


def _reply(client, msg_id: str) -> dict:
    """The reply to msg_id, skipping replies to earlier requests (such as the extra
    kernel_info replies of the start)."""
    while True:
        reply = client.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def _plain(message: dict) -> dict:
    return {"msg_type": message["msg_type"], "content": message["content"],
            "date": message["header"]["date"].isoformat()}


def main() -> None:
    steps = json.loads(open(sys.argv[1]).read())
    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=TIMEOUT)
    try:
        results = []
        load = [] if "--no-load-ext" in sys.argv else [{"code": "%load_ext jupytainer"}]
        for step in [*load, *steps]:
            if "complete" in step:
                results.append(complete(client, step["complete"]))
            else:
                results.append(execute(manager, client, step))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    print(json.dumps(results[len(load):]))


if __name__ == "__main__":
    main()
