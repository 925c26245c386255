"""Kernelspecs for container kernels: installing one for an image (or one for each kernel
the image itself declares), listing and removing them.

A kernelspec names the `jupytainer` provisioner and carries the image and runtime options
as its config. Its argv is a complete `jupytainer exec` command line too, so clients that
ignore provisioners still start the kernel in the image.
"""

import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jupytainer.runtime.errors import JupytainerError

PROVISIONER = "jupytainer"
DEFAULT_KERNEL_ARGV = ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
# Set for every kernel; see kernel.environment (the fallback argv has no provisioner).
FALLBACK_ENV = {"JPY_PARENT_PID": "1"}


@dataclass
class RuntimeOptions:
    """The runtime flags a kernelspec keeps, named as the provisioner's traits."""

    binds: list[str] = field(default_factory=list)
    home: str | None = None
    no_home: bool = False
    contain: bool = False
    containall: bool = False
    cleanenv: bool = False
    env: dict[str, str] = field(default_factory=dict)
    pwd: str | None = None
    writable_tmpfs: bool = False
    overlay: list[str] = field(default_factory=list)
    user_site: bool = False
    unsquash: bool = False

    def config(self) -> dict:
        """The provisioner config: only what differs from the defaults."""
        defaults = RuntimeOptions()
        return {name: value for name, value in vars(self).items()
                if value != getattr(defaults, name)}

    def exec_flags(self) -> list[str]:
        """The same options as `jupytainer exec` flags."""
        flags = [word for bind in self.binds for word in ("--bind", bind)]
        flags += ["--home", self.home] if self.home else []
        for name in ("no_home", "contain", "containall", "cleanenv", "writable_tmpfs",
                     "unsquash"):
            if getattr(self, name):
                flags.append("--" + name.replace("_", "-"))
        flags += ["--pwd", self.pwd] if self.pwd else []
        flags += [word for spec in self.overlay for word in ("--overlay", spec)]
        env = {**FALLBACK_ENV, **({} if self.user_site else {"PYTHONNOUSERSITE": "1"}),
               **self.env}
        return flags + [word for name, value in env.items() for word in ("--env",
                                                                         f"{name}={value}")]


@dataclass
class InstalledKernel:
    """A container kernelspec found on this machine."""

    name: str
    display_name: str
    image: str
    resource_dir: str


def kernel_json(image: str, display_name: str, options: RuntimeOptions,
                kernel_argv: list[str] | None = None, language: str = "python",
                interrupt_mode: str = "signal") -> dict:
    """The kernel.json of a container kernel for image (an absolute path)."""
    argv = list(kernel_argv or DEFAULT_KERNEL_ARGV)
    # Limitation: the argv alone (no provisioner) passes {connection_file} as a host path, so
    # with --contain, which hides the host's home and /tmp, such clients cannot start it.
    config = {"image": image, **options.config()}
    if argv != DEFAULT_KERNEL_ARGV:
        config["kernel_argv"] = argv
    return {
        "argv": [_jupytainer_command(), "exec", *options.exec_flags(), image, *argv],
        "display_name": display_name,
        "language": language,
        "interrupt_mode": interrupt_mode,
        "metadata": {"kernel_provisioner": {"provisioner_name": PROVISIONER,
                                            "config": config}},
    }


def install(spec: dict, name: str, *, user: bool = False, prefix: str | None = None) -> str:
    """Install the kernelspec under name; the directory it went to. user installs for
    this user only; prefix installs into PREFIX/share/jupyter/kernels."""
    _check_name(name)
    manager = _manager()
    with tempfile.TemporaryDirectory(prefix="jupytainer-kernelspec-") as staging:
        with open(os.path.join(staging, "kernel.json"), "w") as handle:
            json.dump(spec, handle, indent=1)
            handle.write("\n")
        try:
            return manager.install_kernel_spec(staging, name, user=user, prefix=prefix,
                                               replace=True)
        except PermissionError as failure:
            raise JupytainerError(
                f"cannot install kernel {name} in {failure.filename or 'the system kernels'}"
                ": use --user, or --prefix with a directory you can write") from None


def installed() -> list[InstalledKernel]:
    """The container kernels Jupyter can see, by name."""
    kernels = []
    for name, entry in sorted(_manager().get_all_specs().items()):
        spec = entry.get("spec", {})
        provisioner = spec.get("metadata", {}).get("kernel_provisioner", {})
        if provisioner.get("provisioner_name") != PROVISIONER:
            continue
        kernels.append(InstalledKernel(name, spec.get("display_name", name),
                                       provisioner.get("config", {}).get("image", ""),
                                       entry.get("resource_dir", "")))
    return kernels


def remove(name: str) -> str:
    """Remove the container kernel name; the directory it was in."""
    for kernel in installed():
        if kernel.name == name:
            try:
                return _manager().remove_kernel_spec(name)
            except PermissionError:
                raise JupytainerError(f"cannot remove kernel {name} from "
                                      f"{kernel.resource_dir}: permission denied; run as "
                                      "its owner") from None
    raise JupytainerError(f"no container kernel named {name}: 'jupytainer kernel list' "
                          "shows them")


def default_name(image: str, inner: str | None = None) -> str:
    """A kernelspec name for image (and a kernel it declares): lowercase letters, digits,
    dots, dashes and underscores, as Jupyter allows."""
    stem = Path(image).name.removesuffix(".sif")
    raw = f"jupytainer-{stem}" + (f"-{inner}" if inner else "")
    return re.sub(r"[^a-z0-9._-]+", "-", raw.lower()).strip("-")


def default_display_name(image: str, inner_display: str = "Python 3") -> str:
    return f"{inner_display} ({Path(image).name})"


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[a-zA-Z0-9._-]+", name):
        raise JupytainerError(f"kernel name {name!r} is not valid: use letters, digits, "
                              "dots, dashes and underscores")


def _jupytainer_command() -> str:
    """The jupytainer program beside this interpreter, so the argv works from any PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "jupytainer")
    return beside if os.access(beside, os.X_OK) else shutil.which("jupytainer") or beside


def _manager():
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        raise JupytainerError("jupyter_client is not installed: install jupytainer with "
                              "its Jupyter extra, pip install 'jupytainer[jupyter]'") from None
    return KernelSpecManager()
