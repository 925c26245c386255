"""How the kernel in a container reads its connection file: through an inherited
descriptor of a memory file holding the connection info. No path has to be bound for it,
so the kernel finds it with --contain, a private home or any image layout, and nothing is
left on disk.
"""

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

# The lowest descriptor number the kernel finds it on: clear of the standard ones and of
# the low numbers a launcher process opens for itself.
LOWEST_DESCRIPTOR = 100


def kernel_argv(template: list[str], descriptor: int) -> list[str]:
    """The kernel command with {connection_file} replaced by where the container sees the
    file on descriptor. ipykernel reads it there, and may rewrite it in place, which a
    memory file allows."""
    path = f"/proc/self/fd/{descriptor}"
    return [word.replace("{connection_file}", path) for word in template]


@contextmanager
def connection_file_descriptor(info: dict) -> Iterator[int]:
    """A read-only descriptor (numbered from LOWEST_DESCRIPTOR) of a memory file holding
    info as a connection file; closed on leaving (the container keeps its own copy)."""
    writer = os.memfd_create("jupyter-connection-file", os.MFD_CLOEXEC)
    try:
        # jupyter_client's older secure writers insist on a file only its owner can read.
        os.fchmod(writer, 0o600)
        os.write(writer, json.dumps(_serializable(info), indent=2).encode())
        opened = os.open(f"/proc/self/fd/{writer}", os.O_RDONLY | os.O_CLOEXEC)
        reader = fcntl.fcntl(opened, fcntl.F_DUPFD_CLOEXEC, LOWEST_DESCRIPTOR)
        os.close(opened)
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
