"""What a person sees when a container kernel cannot start: one readable sentence naming
the image and the fix, and nothing left running."""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from images_cache import python_kernel_image
from kernel_images import no_ipykernel_image
from kernel_support import DRIVER, TESTS, VENV_PYTHON, KernelSetup

from jupytainer.kernel.digest import image_digest


def start_error(setup: KernelSetup, notebook: str = "") -> str | None:
    result = setup.drive("start-error", "box", *([notebook] if notebook else []))
    assert setup.leftovers() == []
    return result["error"]


def assert_one_sentence(message: str, *parts: str) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    for part in parts:
        assert part in message, message


def test_an_image_that_is_gone(identity, images):
    setup = KernelSetup(identity)
    image = identity.workdir / "moved.sif"
    shutil.copy(images.sif, image)
    assert setup.install(image).returncode == 0
    image.unlink()

    assert_one_sentence(start_error(setup), f"image {image} does not exist")


@pytest.mark.slow
def test_an_image_without_python(identity, images):
    setup = KernelSetup(identity)
    assert setup.install(images.sif).returncode == 0

    assert_one_sentence(start_error(setup), "busybox.sif has no python3",
                        "apt-get install -y python3 python3-ipykernel", "%post")


@pytest.mark.slow
def test_an_image_without_ipykernel(identity):
    setup = KernelSetup(identity)
    assert setup.install(no_ipykernel_image()).returncode == 0

    assert_one_sentence(start_error(setup), "cannot import ipykernel", "%post",
                        "python3-ipykernel")


def test_a_bind_whose_source_is_missing(identity, images):
    setup = KernelSetup(identity)
    missing = identity.workdir / "no-such-data"
    assert setup.install(images.sif, "box", "--bind", f"{missing}:/mnt").returncode == 0

    assert_one_sentence(start_error(setup), f"bind source {missing} does not exist")


@pytest.mark.slow
def test_user_namespaces_disabled(identity):
    """Only a user needs them: root's kernel still starts."""
    setup = KernelSetup(identity)
    assert setup.install(python_kernel_image()).returncode == 0
    command = [sys.executable, str(TESTS / "without_userns.py"),
               *identity.command([VENV_PYTHON, str(DRIVER), "start-error", "box"])]
    result = subprocess.run(command, env=identity.environment(setup.env),
                            cwd=identity.workdir, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    error = json.loads(result.stdout.splitlines()[-1])["error"]
    if identity.is_root:
        assert error is None
    else:
        assert_one_sentence(error, "unprivileged user namespaces are disabled",
                            "user.max_user_namespaces")
    assert setup.leftovers() == []


@pytest.mark.slow
def test_a_notebook_pinned_to_another_image_is_refused(identity):
    setup = KernelSetup(identity)
    image = python_kernel_image()
    assert setup.install(image).returncode == 0
    pinned = _notebook(identity, "pinned.ipynb", "sha256:" + "0" * 64)
    matching = _notebook(identity, "matching.ipynb", image_digest(image))

    assert_one_sentence(start_error(setup, str(pinned)), "pinned.ipynb is pinned to the image "
                        "sha256:000000000000", "metadata.jupytainer.image_digest")
    assert start_error(setup, str(matching)) is None


def _notebook(identity, name: str, digest: str):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["jupytainer"] = {"image_digest": digest}
    path = identity.workdir / name
    nbformat.write(notebook, path)
    return identity.make_owned(path)


def test_a_kernel_that_never_opens_its_ports(identity, images):
    setup = KernelSetup(identity)
    assert setup.install(images.sif, "box", "--kernel-command", "sleep 600").returncode == 0
    spec_file = setup.prefix / "share" / "jupyter" / "kernels" / "box" / "kernel.json"
    spec = json.loads(spec_file.read_text())
    spec["metadata"]["kernel_provisioner"]["config"]["launch_timeout"] = 2
    spec_file.write_text(json.dumps(spec))

    assert_one_sentence(start_error(setup), "did not open its ports within 2 seconds",
                        "launch_timeout")
