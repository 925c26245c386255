"""Notebooks run in JupyterLab are pinned without a `jupytainer pin` and without any
configuration: a real Jupyter server starts a container kernel for a notebook through its
REST API; the notebook saved afterwards carries the image's pin, and one that never ran in
a container kernel does not."""

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from images_cache import python_kernel_image
from kernel_support import VENV_PYTHON, KernelSetup
from publish_support import write_notebook

from jupytainer.kernel.digest import image_digest

pytestmark = pytest.mark.slow
TOKEN = "publish-test-token"


class Server:
    """A jupyter server run as the identity, driven over HTTP."""

    def __init__(self, identity, setup: KernelSetup, root: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        argv = [VENV_PYTHON, "-m", "jupyter_server", "--no-browser", f"--port={self.port}",
                "--ip=127.0.0.1", f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root}"]
        argv += ["--allow-root"] if identity.is_root else []
        env = identity.environment({**setup.env, "XDG_STATE_HOME": str(root / "state")})
        self.process = subprocess.Popen(identity.command(argv), env=env, cwd=root,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                         method=method,
                                         headers={"Authorization": f"token {TOKEN}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            text = response.read()
        return json.loads(text) if text else {}

    def save(self, name: str) -> None:
        """Save the notebook as a frontend does: the model it holds, sent back."""
        model = self.call("GET", f"/api/contents/{name}")
        self.call("PUT", f"/api/contents/{name}", {"type": "notebook", "format": "json",
                                                   "content": model["content"]})

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.call("GET", "/api/status")
                return
            except OSError:
                assert self.process.poll() is None, self.process.stderr.read().decode()
                time.sleep(0.2)
        raise AssertionError("the Jupyter server did not answer within 60 seconds")


def test_a_notebook_saved_after_running_in_a_container_kernel_carries_its_pin(identity):
    setup = KernelSetup(identity)
    image = python_kernel_image()
    assert setup.install(image, "box", "--cleanenv").returncode == 0
    for name in ("ran.ipynb", "never-ran.ipynb"):
        identity.make_owned(write_notebook(identity.workdir / name, ["1 + 1"], "box"))
    server = Server(identity, setup, identity.workdir)
    try:
        session = server.call("POST", "/api/sessions", {
            "path": "ran.ipynb", "name": "ran.ipynb", "type": "notebook",
            "kernel": {"name": "box"}})
        server.save("ran.ipynb")
        server.save("never-ran.ipynb")
        server.call("DELETE", f"/api/sessions/{session['id']}")
    finally:
        server.stop()

    ran = json.loads((identity.workdir / "ran.ipynb").read_text())["metadata"]
    never = json.loads((identity.workdir / "never-ran.ipynb").read_text())["metadata"]
    assert ran["jupytainer"]["image_digest"] == image_digest(image)
    assert ran["jupytainer"]["options"] == {"cleanenv": True}
    assert "jupytainer" not in never
    assert setup.leftovers() == []


def test_pin_without_an_image_takes_the_last_container_kernel_of_the_notebook(identity):
    setup = KernelSetup(identity)
    image = python_kernel_image()
    assert setup.install(image, "box", "--contain").returncode == 0
    notebook = identity.make_owned(write_notebook(identity.workdir / "ran.ipynb", ["1"], "box"))
    server = Server(identity, setup, identity.workdir)
    try:
        session = server.call("POST", "/api/sessions", {
            "path": "ran.ipynb", "name": "ran.ipynb", "type": "notebook",
            "kernel": {"name": "box"}})
        server.call("DELETE", f"/api/sessions/{session['id']}")
    finally:
        server.stop()

    pinned = identity.jupytainer("pin", notebook, env={
        "XDG_STATE_HOME": str(identity.workdir / "state"), "JUPYTER_PATH": "/nonexistent"})

    pin = json.loads(notebook.read_text())["metadata"]["jupytainer"]
    assert pinned.returncode == 0, pinned.stderr
    assert pin["image_digest"] == image_digest(image)
    assert pin["options"] == {"contain": True}
