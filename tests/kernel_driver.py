"""A Jupyter client the kernel tests run as root or as the unprivileged user, so that
jupyter_client itself (and with it the provisioner) runs as that identity.

    python kernel_driver.py COMMAND KERNEL_NAME [ARGS...]

Kernels are found by name through JUPYTER_PATH, as a Jupyter server finds them. Each
command prints one JSON document on stdout.
"""

import asyncio
import json
import os
import signal
import sys
import time

import nbformat
from jupyter_core.utils import run_sync
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

INTERRUPT_TAG = "interrupt-me"
# The launcher pid of every kernel this process started, for the leftover checks.
LAUNCHERS: list[int] = []
# The sleeping cell is interrupted after this many seconds of waiting for it.
INTERRUPT_AFTER = 4


def notebook(kernel: str, bound_file: str) -> dict:
    """Run a notebook: the container's OS, a bound file, an interrupted sleep, then a
    restart. The outputs of each cell, as text, by cell."""
    cells = [
        "print(open('/etc/os-release').read())",
        f"print(open({bound_file!r}).read(), end='')",
        "alive_before = 'still here'",
        "import time\ntime.sleep(60)",
        "print(alive_before)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.cells[3].metadata["tags"] = [INTERRUPT_TAG]
    client = NotebookClient(nb, kernel_name=kernel, allow_errors=True,
                            interrupt_on_timeout=True, startup_timeout=300,
                            timeout_func=_timeout)
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        launchers_before = _launchers()
        LAUNCHERS.extend(launchers_before)
        run_sync(client.km.restart_kernel)()
        run_sync(client.kc.wait_for_ready)(timeout=300)
        after = nbformat.v4.new_code_cell("print('alive_before' in globals())")
        nb.cells.append(after)
        client.execute_cell(after, len(nb.cells) - 1)
        launchers_after = _launchers()
        LAUNCHERS.extend(launchers_after)
    return {"outputs": [_text(cell) for cell in nb.cells],
            "launchers_before_restart": launchers_before,
            "launchers_after_restart": launchers_after}


def _timeout(cell) -> int:
    return INTERRUPT_AFTER if INTERRUPT_TAG in cell.metadata.get("tags", []) else 120


def _text(cell) -> str:
    pieces = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            pieces.append(output["text"])
        elif output.get("output_type") == "error":
            pieces.append(f"{output['ename']}: {output['evalue']}")
    return "".join(pieces)


def _launchers() -> list[int]:
    """The pids of this process's container launchers."""
    me = os.getpid()
    children = []
    for thread in os.listdir(f"/proc/{me}/task"):
        with open(f"/proc/{me}/task/{thread}/children") as handle:
            children += handle.read().split()
    found = []
    for pid in children:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if b"jupytainer.runtime.launch" in handle.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


async def _start(kernel: str) -> AsyncKernelManager:
    manager = AsyncKernelManager(kernel_name=kernel)
    await manager.start_kernel()
    LAUNCHERS.append(manager.provisioner.pid)
    return manager


async def _ask(manager: AsyncKernelManager, code: str) -> str:
    """Run code in the kernel; its printed output."""
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=300)
        pieces = []

        def keep(message):
            if message["msg_type"] == "stream":
                pieces.append(message["content"]["text"])

        await client.execute_interactive(code, output_hook=keep, timeout=120)
        return "".join(pieces)
    finally:
        client.stop_channels()


async def cycles(kernel: str, count: str) -> dict:
    """Start a kernel, ask it something and shut it down, count times."""
    answers = []
    for _ in range(int(count)):
        manager = await _start(kernel)
        answers.append(await _ask(manager, "print(6 * 7)"))
        await manager.shutdown_kernel()
    return {"answers": answers}


async def parallel(kernel: str, count: str) -> dict:
    """Start count kernels at once; each says which process it is."""
    managers = await asyncio.gather(*[_start(kernel) for _ in range(int(count))])
    try:
        answers = await asyncio.gather(*[
            _ask(manager, f"print({index} * 1000 + 7)")
            for index, manager in enumerate(managers)])
    finally:
        await asyncio.gather(*[manager.shutdown_kernel() for manager in managers])
    return {"answers": answers}


async def start_error(kernel: str, notebook_path: str = "") -> dict:
    """Start a kernel that is expected to fail; the message a person would see."""
    manager = AsyncKernelManager(kernel_name=kernel)
    env = {**os.environ, "JPY_SESSION_NAME": notebook_path} if notebook_path else None
    try:
        await manager.start_kernel(**({"env": env} if env else {}))
    except Exception as failure:  # the server shows str() of whatever the start raised
        return {"error": str(failure), "type": type(failure).__name__}
    answer = await _ask(manager, "print('started')")
    await manager.shutdown_kernel()
    return {"error": None, "answer": answer}


async def ask(kernel: str, code: str) -> dict:
    """Start a kernel, run code in it, and shut it down; what it printed."""
    manager = await _start(kernel)
    try:
        return {"output": await _ask(manager, code)}
    finally:
        await manager.shutdown_kernel()


async def crash(kernel: str) -> dict:
    """A kernel that ends itself abruptly: the provisioner sees it end."""
    manager = await _start(kernel)
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=300)
    client.execute("import os; os._exit(3)")
    for _ in range(600):
        status = await manager.provisioner.poll()
        if status is not None:
            break
        await asyncio.sleep(0.1)
    client.stop_channels()
    await manager.cleanup_resources()
    return {"status": status}


async def hold(kernel: str) -> dict:
    """Start a kernel, say so, and wait to be killed."""
    manager = await _start(kernel)
    print(json.dumps({"launcher": manager.provisioner.pid}), flush=True)
    await asyncio.sleep(3600)
    return {}


def main() -> None:
    command, *args = sys.argv[1:]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    if command == "notebook":
        result = notebook(*args)
    else:
        result = asyncio.run({"cycles": cycles, "parallel": parallel, "crash": crash, "ask": ask,
                              "start-error": start_error, "hold": hold}[command](*args))
    result["seconds"] = time.monotonic() - started
    result["launchers"] = [pid for pid in LAUNCHERS if pid]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
