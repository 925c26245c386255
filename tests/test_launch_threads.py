"""A container started from a thread that then ends (as a Jupyter server's executor
threads do) keeps running: the launcher's parent-death signal is tied to the thread that
forked it, so the API forks from a thread that lasts."""

import os
import threading

import pytest

from jupytainer.runtime.launch import ContainerOptions, start_container

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


def test_container_started_from_an_ended_thread_keeps_running(images):
    stdin_reader, stdin_writer = os.pipe()
    stdout_reader, stdout_writer = os.pipe()
    started = {}

    def start() -> None:
        started["container"] = start_container(
            images.sif, "exec", ["sh", "-c", "read line; echo got $line"], ContainerOptions(),
            stdin=stdin_reader, stdout=stdout_writer)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    os.close(stdin_reader)
    os.close(stdout_writer)

    os.write(stdin_writer, b"hello\n")
    os.close(stdin_writer)
    with os.fdopen(stdout_reader) as output:
        assert output.read() == "got hello\n"
    assert started["container"].wait(timeout=60) == 0
