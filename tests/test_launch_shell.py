"""`shell` is interactive: with a real terminal the container's shell reads commands from
it, knows it is on a terminal, and its exit status is the command's."""

import os
import pty
import select
import time

import pytest
from conftest import JUPYTAINER

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


def converse(identity, argv: list[str], steps: list[tuple[float, str]],
             timeout: float = 60) -> tuple[str, int]:
    """Run argv as identity on a new terminal; type each step's text after waiting its
    seconds, then collect all the terminal shows until the program ends."""
    pid, terminal = pty.fork()
    if pid == 0:
        os.chdir(identity.workdir)
        command = identity.command(argv)
        os.execvpe(command[0], command, identity.environment({"TERM": "dumb"}))
    for delay, text in steps:
        time.sleep(delay)
        os.write(terminal, text.encode())
    shown, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not select.select([terminal], [], [], 1)[0]:
            continue
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the terminal closed: the program ended
            break
        if not chunk:
            break
        shown += chunk
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    return shown.decode(errors="replace"), os.waitstatus_to_exitcode(status)


def test_shell_reads_commands_from_the_terminal(identity, images):
    typed = "[ -t 0 ] && echo on-a-terminal; echo $((6 * 7)); echo $PS1; exit 4\n"
    shown, status = converse(identity, [str(JUPYTAINER), "shell", str(images.sif)],
                             [(0, typed)])
    assert "on-a-terminal" in shown
    assert "42" in shown
    assert "Apptainer>" in shown
    assert status == 4


@pytest.mark.slow
def test_ctrl_c_interrupts_the_foreground_command_not_the_shell(identity, images):
    steps = [(0, "sleep 30; echo after-sleep\n"), (3, "\x03"),
             (1, "echo still-here; exit 6\n")]
    shown, status = converse(identity, [str(JUPYTAINER), "shell", str(images.sif)], steps)
    assert "still-here" in shown
    assert status == 6
