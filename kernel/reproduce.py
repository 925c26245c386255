"""Reproducing a pinned notebook: check that the image is the one it is pinned to, run the
notebook headless in that image through the container kernel provisioner, and report cell
by cell which outputs changed."""

import json
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from jupytainer.kernel.bundle import SUFFIX, Unpacked, unpack
from jupytainer.kernel.compare import CellChange, changed_cells
from jupytainer.kernel.digest import image_digest
from jupytainer.kernel.notebooks import read_notebook, write_notebook
from jupytainer.kernel.pinning import (KEY, kernel_options, notebook_pin, pin_metadata,
                                        pinned_image_file)
from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError

KERNEL_NAME = "jupytainer-reproduce"


@dataclass
class Reproduction:
    """The outcome of a re-run: the executed notebook and the cells whose outputs changed."""

    notebook: dict
    changes: list[CellChange]


def reproduce(source: str, image: str | None = None, allow_different_image: bool = False,
              timeout: float | None = None) -> Reproduction:
    """Re-run the notebook of source (a bundle or a notebook) in its pinned image, or in
    image; refuse an image other than the pinned one unless allow_different_image."""
    with ExitStack() as stack:
        notebook, bundled = _locate(source, stack)
        document = read_notebook(notebook)
        pin = notebook_pin(document, notebook.name)
        image = image or _pinned_image(source, notebook, pin, bundled)
        _check_image(image, pin, allow_different_image)
        executed = execute(document, image, kernel_options(pin), notebook.parent, timeout)
        executed["metadata"][KEY] = pin_metadata(image, kernel_options(pin))
        return Reproduction(executed, changed_cells(document["cells"], executed["cells"]))


def save(reproduction: Reproduction, output: str) -> None:
    write_notebook(output, reproduction.notebook)


def execute(document: dict, image: str, options: dict, cwd: Path,
            timeout: float | None = None) -> dict:
    """The notebook document run from its first cell in a container kernel on image, with
    cwd as the kernel's working directory; errors in cells are kept as outputs."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    notebook = nbformat.reads(json.dumps(document), as_version=4)
    with tempfile.TemporaryDirectory(prefix="jupytainer-kernels-") as kernels:
        _write_kernelspec(Path(kernels), image, options)
        manager = AsyncKernelManager(kernel_name=KERNEL_NAME,
                                     kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels]))
        client = NotebookClient(notebook, km=manager, allow_errors=True, timeout=timeout,
                                startup_timeout=300, resources={"metadata": {"path": str(cwd)}})
        try:
            client.execute()
        except CellTimeoutError:
            raise JupytainerError(f"a cell ran longer than {timeout:g} seconds in {image}: "
                                  "raise --timeout, or leave it out to wait") from None
        except (DeadKernelError, RuntimeError) as failure:
            first = str(failure).strip().splitlines()[0] if str(failure).strip() else "failed"
            raise JupytainerError(f"running the notebook in {image} failed: {first}") from None
        # nbclient answers SIGINT and SIGTERM by shutting the kernel down and lets the
        # remaining cells fail; that is an interrupted run, not a changed output.
        if getattr(client, "_async_cleanup_kernel_future", None) is not None:
            raise KeyboardInterrupt
    return json.loads(nbformat.writes(notebook))


def report(changes: list[CellChange], cells: int) -> str:
    """What a person reads: the changed cells with their diffs, then a summary line."""
    code = f"{cells} code cell(s)"
    if not changes:
        return f"All outputs match: {code} reproduced."
    details = "\n".join(change.describe() for change in changes)
    numbers = ", ".join(str(change.index + 1) for change in changes)
    return f"{details}\n{len(changes)} of {code} changed: cell(s) {numbers}."


def _locate(source: str, stack: ExitStack) -> tuple[Path, Unpacked | None]:
    """The notebook to reproduce, and the bundle it came in: a bundle is unpacked into a
    temporary directory (removed afterwards) and verified first."""
    if source.endswith(".ipynb"):
        return Path(source).absolute(), None
    if not source.endswith(SUFFIX) and not os.path.isfile(source):
        raise JupytainerError(f"{source} is neither a notebook (.ipynb) nor a bundle "
                              f"({SUFFIX}): give one of those")
    # Limitation: the bundle, image included, is unpacked under $TMPDIR, which must have
    # room for it; the image is not run from inside the compressed archive.
    directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="jupytainer-reproduce-"))
    unpacked = unpack(source, directory)
    log.info(f"Verified {len(unpacked.digests)} files of {source} against its MANIFEST")
    return unpacked.notebook, unpacked


def _pinned_image(source: str, notebook: Path, pin: dict, bundled: Unpacked | None) -> str:
    """The bundle's image; for a notebook, the pinned image where it was pinned, or beside
    the notebook."""
    if bundled is not None:
        if bundled.image is None:
            raise JupytainerError(f"{source} holds no image (it was published with "
                                  "--no-image): build one from its definition file and give "
                                  "it with --image IMAGE.sif")
        return str(bundled.image)
    image = pinned_image_file(pin, notebook)
    if image is not None:
        return image
    raise JupytainerError(f"{notebook.name} is pinned to {pin.get('image_name') or 'an image'} "
                          f"({pin['image_digest'][:19]}...), which is not here: give it with "
                          "--image IMAGE.sif")


def _check_image(image: str, pin: dict, allow_different_image: bool) -> None:
    if not os.path.isfile(image):
        raise JupytainerError(f"image {image} does not exist: give the path of a SIF file")
    actual = image_digest(image)
    if actual == pin["image_digest"]:
        log.info(f"{os.path.basename(image)} is the pinned image ({actual[:19]}...)")
        return
    if not allow_different_image:
        raise JupytainerError(f"{image} is {actual[:19]}..., not the pinned image "
                              f"{pin['image_digest'][:19]}...: give the pinned image, or add "
                              "--allow-different-image to run in this one and see what changes")
    log.warning(f"running in {image} ({actual[:19]}...), not the pinned image "
                f"{pin['image_digest'][:19]}...")


def _write_kernelspec(kernels: Path, image: str, options: dict) -> None:
    """A kernelspec for the provisioner, in a directory only this run searches."""
    from jupytainer.kernel.kernelspecs import RuntimeOptions, kernel_json

    options = dict(options)
    argv = options.pop("kernel_argv", None)
    options["binds"] = _available_binds(options.get("binds", []))
    # ipykernel's debugger warns on every start that frozen modules hide breakpoints.
    options["env"] = {"PYDEVD_DISABLE_FILE_VALIDATION": "1", **options.get("env", {})}
    spec = kernel_json(os.path.abspath(image), "Reproduction", RuntimeOptions(**options), argv)
    (kernels / KERNEL_NAME).mkdir()
    (kernels / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec))


def _available_binds(binds: list[str]) -> list[str]:
    """The pinned binds whose source exists here; the others name the author's machine."""
    # Limitation: a bind missing here is dropped with a warning, not mapped to the
    # reviewer's copy of the data; data a notebook needs belongs in the bundle (--include).
    kept = []
    for bind in binds:
        if os.path.exists(bind.split(":")[0]):
            kept.append(bind)
        else:
            log.warning(f"the pinned bind {bind} has no source here: running without it")
    return kept
