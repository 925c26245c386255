"""The kernels an image declares itself: kernelspecs under its share/jupyter/kernels
(IRkernel, IJulia, ipykernel...), read by a short run of the image's own shell, so that its
symlinks and layout are honoured as the kernel will see them."""

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch import ContainerOptions, start_container

KERNEL_DIRS = ("/usr/local/share/jupyter/kernels", "/usr/share/jupyter/kernels",
               "/opt/conda/share/jupyter/kernels")
_MARK = "==> jupytainer kernel "
_LISTER = (
    'for file in ' + " ".join(f"{d}/*/kernel.json" for d in KERNEL_DIRS) + '; do '
    '[ -f "$file" ] || continue; '
    f'echo "{_MARK}$file"; cat "$file"; echo; '
    'done'
)


@dataclass
class ImageKernel:
    """One kernelspec found inside an image."""

    name: str
    argv: list[str]
    display_name: str
    language: str
    env: dict[str, str]
    interrupt_mode: str


# Limitation: only kernel.json is read; the logos and other resources next to it in the
# image are not copied to the host kernelspecs.
def kernels_in_image(image: str) -> list[ImageKernel]:
    """The kernelspecs the image holds, first directory first; raises JupytainerError
    when the image cannot be run or holds none."""
    text = _list_kernel_files(image)
    kernels, seen = [], set()
    for path, body in _split(text):
        kernel = _parse(path, body)
        if kernel is not None and kernel.name not in seen:
            seen.add(kernel.name)
            kernels.append(kernel)
    if not kernels:
        raise JupytainerError(f"{image} holds no kernelspecs in {', '.join(KERNEL_DIRS)}: "
                              "install a kernel there in its %post, or install without "
                              "--from-image")
    return kernels


def _list_kernel_files(image: str) -> str:
    options = ContainerOptions(cleanenv=True, no_home=True, contain=True)
    with tempfile.TemporaryFile() as output:
        process = start_container(image, "exec", ["/bin/sh", "-c", _LISTER], options,
                                  stdin=subprocess.DEVNULL, stdout=output,
                                  stderr=subprocess.DEVNULL, cwd="/")
        status = process.wait()
        output.seek(0)
        text = output.read().decode(errors="replace")
    if status != 0 and _MARK not in text:
        raise JupytainerError(f"cannot look for kernels in {image}: its /bin/sh failed "
                              f"(exit status {status})")
    return text


def _split(text: str) -> list[tuple[str, str]]:
    pieces = text.split(_MARK)[1:]
    return [tuple(piece.split("\n", 1)) for piece in pieces if "\n" in piece]


def _parse(path: str, body: str) -> ImageKernel | None:
    """The kernel in one kernel.json, or None if it is not one a container can start."""
    try:
        spec = json.loads(body)
    except ValueError:
        return None
    argv = spec.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(w, str) for w in argv):
        return None
    name = os.path.basename(os.path.dirname(path))
    return ImageKernel(name=name, argv=argv, display_name=spec.get("display_name", name),
                       language=spec.get("language", ""), env=dict(spec.get("env") or {}),
                       interrupt_mode=spec.get("interrupt_mode", "signal"))
