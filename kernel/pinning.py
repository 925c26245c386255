"""Pins: a notebook's `metadata.jupytainer` names the exact image it ran in (the SHA-256 of
the SIF file, its definition file and build labels), the runtime options of its kernel and
the jupytainer version, so that anyone can later re-run it in that same image.

`jupytainer pin` writes a pin. Notebooks run in JupyterLab are pinned without that step:
the container kernel records each start for its notebook, and a save hook, which the first
container kernel registers with the Jupyter server it runs in, writes the record into the
notebook as it is saved. The kernel cannot write the notebook itself: the frontend holds
the notebook open and its next save would overwrite the change. (Servers of other kinds
can name the hook in their configuration: `ContentsManager.pre_save_hook =
"jupytainer.kernel.pinning.pre_save_hook"`.)
"""

import hashlib
import json
import os
import sys
import tempfile
import threading
from typing import Any

from jupytainer import __version__
from jupytainer.kernel.digest import image_digest
from jupytainer.kernel.kernelspecs import DEFAULT_KERNEL_ARGV
from jupytainer.kernel.notebooks import read_notebook, write_notebook
from jupytainer.runtime.errors import JupytainerError

KEY = "jupytainer"
# The folder of a bundle that holds the image and its definition file.
BUNDLE_IMAGE_DIR = "image"
# Records being written in this process (a Jupyter server), by record path.
_recording: dict[str, threading.Thread] = {}
# The contents managers (by id) the save hook is registered with.
_hooked: set[int] = set()
# The provisioner traits a pin keeps (as `jupytainer kernel install` flags name them).
OPTION_NAMES = ("binds", "home", "no_home", "contain", "containall", "cleanenv", "env", "pwd",
                "writable_tmpfs", "overlay", "user_site", "unsquash", "kernel_argv")


def pin_metadata(image: str, options: dict | None = None) -> dict:
    """The pin for a kernel in image with options (provisioner trait names, non-default
    values only)."""
    from jupytainer.runtime.metadata import open_image, read_metadata

    if os.path.isdir(image):
        raise JupytainerError(f"{image} is a sandbox directory, which has no fixed digest: "
                              f"build a SIF from it (jupytainer build IMAGE.sif {image}) and "
                              "pin that")
    if not os.path.isfile(image):
        raise JupytainerError(f"image {image} does not exist: give the path of a SIF file")
    metadata = read_metadata(open_image(image))
    options = dict(options or {})
    return {
        "image_digest": image_digest(image),
        "image_name": os.path.basename(image),
        "image_path": os.path.abspath(image),
        "definition": metadata.deffile,
        "labels": metadata.labels,
        "binds": list(options.pop("binds", [])),
        "options": options,
        "version": __version__,
    }


def pin_notebook(notebook: str, image: str, options: dict | None = None) -> dict:
    """Write the pin for image into the notebook's metadata; the pin."""
    document = read_notebook(notebook)
    pin = pin_metadata(image, options)
    document["metadata"][KEY] = pin
    write_notebook(notebook, document)
    return pin


def pin_from_kernel(notebook: str) -> dict:
    """Pin the notebook to the image of the container kernel that last ran it, or else of
    the container kernelspec its metadata names; the pin."""
    document = read_notebook(notebook)
    kernel_name = (document["metadata"].get("kernelspec") or {}).get("name")
    pin = recorded_pin(notebook, kernel_name) or _kernelspec_pin(kernel_name, notebook)
    document["metadata"][KEY] = pin
    write_notebook(notebook, document)
    return pin


def _kernelspec_pin(kernel_name: str | None, notebook: str) -> dict:
    from jupytainer.kernel.kernelspecs import installed

    for kernel in installed():
        if kernel.name == kernel_name:
            with open(os.path.join(kernel.resource_dir, "kernel.json"), encoding="utf-8") as f:
                spec = json.load(f)
            config = spec["metadata"]["kernel_provisioner"].get("config", {})
            options = {name: config[name] for name in OPTION_NAMES if name in config}
            return pin_metadata(config.get("image", ""), options)
    raise JupytainerError(f"{os.path.basename(notebook)} has not run in a container kernel "
                          "and its kernelspec is not one: name the image, 'jupytainer pin "
                          "NOTEBOOK IMAGE.sif'")


def notebook_pin(document: dict, name: str) -> dict:
    """The pin of a notebook document, or an error saying how to pin it."""
    pin = document.get("metadata", {}).get(KEY)
    if not isinstance(pin, dict) or not str(pin.get("image_digest", "")).startswith("sha256:"):
        raise JupytainerError(f"{name} is not pinned to an image: run it in a container "
                              f"kernel, or run 'jupytainer pin {name} IMAGE.sif'")
    return pin


def bundled_image_name(pin: dict) -> str:
    """Where a bundle keeps the pinned image, relative to the notebook."""
    stem = os.path.splitext(pin.get("image_name") or "image.sif")[0]
    return f"{BUNDLE_IMAGE_DIR}/{stem}.sif"


def pinned_image_file(pin: dict, notebook: str | os.PathLike) -> str | None:
    """The pinned image where an unpacked bundle keeps it, else beside the notebook, else
    where it was when pinned; None if none is there (whether it still is the pinned image
    is the caller's check)."""
    directory = os.path.dirname(os.path.abspath(notebook))
    for candidate in (bundled_image_name(pin), pin.get("image_name"), pin.get("image_path")):
        if candidate and os.path.isfile(os.path.join(directory, candidate)):
            return os.path.join(directory, candidate)
    return None


def kernel_options(pin: dict) -> dict:
    """The provisioner config a pin's kernel ran with (binds included)."""
    options = dict(pin.get("options") or {})
    if pin.get("binds"):
        options["binds"] = list(pin["binds"])
    return {name: value for name, value in options.items() if name in OPTION_NAMES}


def record_kernel_start(notebook: str, provisioner: Any) -> None:
    """Remember that a container kernel for notebook started in provisioner's image, with
    its options: the save hook pins the notebook from this record. Returns at once: the
    record is written in the background, since hashing a large image would delay the
    kernel's start; a save of the notebook waits for it. Never fails a kernel start."""
    image = provisioner.image
    if not notebook.endswith(".ipynb") or os.path.isdir(image):
        return
    options = {name: getattr(provisioner, name) for name in OPTION_NAMES}
    options = {name: value for name, value in options.items()
               if value and value != DEFAULT_KERNEL_ARGV}
    _hook_into_server()
    path = _record_path(notebook)
    # Not a daemon: a server that stops right after the kernel started still finishes
    # the record before it exits.
    writer = threading.Thread(target=_record, name="jupytainer-pin",
                              args=(path, notebook, _kernel_name(provisioner), image, options))
    _recording[path] = writer
    writer.start()


def _record(path: str, notebook: str, kernel_name: str | None, image: str,
            options: dict) -> None:
    try:
        record = {"notebook": os.path.realpath(notebook), "kernel_name": kernel_name,
                  "pin": pin_metadata(image, options)}
        _write_record(path, record)
    except (OSError, JupytainerError):
        return


def recorded_pin(notebook: str, kernel_name: str | None = None) -> dict | None:
    """The pin recorded by the last container kernel started for notebook, if that kernel
    was kernel_name (when given)."""
    path = _record_path(notebook)
    writer = _recording.get(path)
    if writer is not None:
        writer.join()
        _recording.pop(path, None)
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    if record.get("notebook") != os.path.realpath(notebook):
        return None
    if kernel_name is not None and record.get("kernel_name") not in (None, kernel_name):
        return None
    return record.get("pin")


def pre_save_hook(model: dict, path: str, contents_manager: Any, **kwargs: Any) -> None:
    """A Jupyter server pre-save hook: a notebook saved after it ran in a container kernel
    is saved with that kernel's pin."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    metadata = model["content"].setdefault("metadata", {})
    kernel_name = (metadata.get("kernelspec") or {}).get("name")
    os_path = os.path.join(contents_manager.root_dir, path.lstrip("/"))
    pin = recorded_pin(os_path, kernel_name)
    if pin is not None:
        metadata[KEY] = pin


def _hook_into_server() -> None:
    """Register the save hook with the contents manager of the Jupyter server running in
    this process, once; outside a server (nbclient, jupyter execute) there is none."""
    server_module = sys.modules.get("jupyter_server.serverapp")
    ServerApp = getattr(server_module, "ServerApp", None)
    if ServerApp is None or not ServerApp.initialized():
        return
    manager = getattr(ServerApp.instance(), "contents_manager", None)
    register = getattr(manager, "register_pre_save_hook", None)
    if register is not None and id(manager) not in _hooked:
        _hooked.add(id(manager))
        register(pre_save_hook)


def _kernel_name(provisioner: Any) -> str | None:
    """The kernelspec's name: the name of the directory it was found in."""
    spec = getattr(provisioner, "kernel_spec", None)
    directory = getattr(spec, "resource_dir", None)
    return os.path.basename(directory.rstrip("/")) if directory else None


def _record_path(notebook: str) -> str:
    """Records live in the user's state directory, one per notebook, named by a hash of
    the notebook's real path."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    key = hashlib.sha256(os.path.realpath(notebook).encode()).hexdigest()
    return os.path.join(state, "jupytainer", "notebook-pins", f"{key}.json")


def _write_record(path: str, record: dict) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".json")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
