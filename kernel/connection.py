"""How the kernel in a container reads its connection file: as its standard input, a
memory file holding the connection info. No path has to be bound for it, so the kernel
finds it with --contain, a private home or any image layout, and nothing is left on disk.
"""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

# What {connection_file} becomes in the kernel's command inside the container. ipykernel
# reads the file there, and may rewrite it in place, which a memory file allows.
CONTAINER_PATH = "/proc/self/fd/0"
# Limitation: the kernel's children inherit this standard input too, so a notebook cell
# running a command that reads stdin (`!cat`) shows the connection file, key included.
# Moving it to another descriptor needs a shell wrapper, which images without /bin/sh lack.


def kernel_argv(template: list[str]) -> list[str]:
    """The kernel command with {connection_file} replaced by where the container sees it."""
    return [word.replace("{connection_file}", CONTAINER_PATH) for word in template]


@contextmanager
def connection_file_descriptor(info: dict) -> Iterator[int]:
    """A read-only descriptor of a memory file holding info as a connection file; closed
    on leaving (the container keeps its own copy)."""
    writer = os.memfd_create("jupyter-connection-file", os.MFD_CLOEXEC)
    try:
        # jupyter_client's older secure writers insist on a file only its owner can read.
        os.fchmod(writer, 0o600)
        os.write(writer, json.dumps(_serializable(info), indent=2).encode())
        reader = os.open(f"/proc/self/fd/{writer}", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(writer)
    try:
        yield reader
    finally:
        os.close(reader)


def _serializable(info: dict) -> dict:
    """The connection info with the session key as text, as connection files hold it."""
    return {name: value.decode() if isinstance(value, bytes) else value
            for name, value in info.items()}
