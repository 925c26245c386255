"""The `jupytainer` kernel provisioner: jupyter_client starts, signals and stops a kernel
that runs inside a SIF image (or a sandbox directory), through jupytainer's launcher.

A kernelspec selects it with `metadata.kernel_provisioner = {"provisioner_name":
"jupytainer", "config": {"image": ...}}`; each key of `config` is a trait below.
"""

import asyncio
import os
import signal
import socket
import subprocess
import time
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Bool, Dict, Float, List, Unicode

from jupytainer.kernel import connection
from jupytainer.kernel.digest import check_pin
from jupytainer.kernel.environment import kernel_overrides, server_environment
from jupytainer.kernel.failures import start_timeout, startup_failure
from jupytainer.kernel.kernelspecs import DEFAULT_KERNEL_ARGV
from jupytainer.kernel.pinning import record_kernel_start
from jupytainer.kernel.stderr import StderrTail
from jupytainer.runtime.launch import ContainerOptions, start_container

# How often a starting kernel is checked for having opened its ports or ended.
STARTUP_POLL = 0.02

class ContainerProvisioner(LocalProvisioner):
    """Runs the kernel in a container: one launcher process per kernel, whose init passes
    signals on to the kernel and takes every process and mount of the kernel with it.

    Ports and the connection file are chosen as for a local kernel; the container shares
    the host network, so the kernel binds them on the host's loopback.
    """

    image = Unicode(help="The SIF image (or sandbox directory) the kernel runs in.").tag(
        config=True)
    kernel_argv = List(Unicode(), default_value=DEFAULT_KERNEL_ARGV, help=(
        "The kernel's command inside the image; {connection_file} is replaced by the "
        "path where the container sees the connection file.")).tag(config=True)
    binds = List(Unicode(), help="Bind paths, as --bind takes them: src[:dest[:ro|rw]].").tag(
        config=True)
    home = Unicode(None, allow_none=True, help="The home directory, as --home: src[:dest].").tag(
        config=True)
    no_home = Bool(False, help="Do not bind the home directory (--no-home).").tag(config=True)
    contain = Bool(False, help="Private /tmp, home and /dev instead of the host's "
                               "(--contain).").tag(config=True)
    containall = Bool(False, help="--contain plus a clean environment and a private IPC "
                                  "namespace (--containall).").tag(config=True)
    cleanenv = Bool(False, help="Start from a clean environment instead of the server's "
                                "(--cleanenv).").tag(config=True)
    env = Dict(value_trait=Unicode(), help="Variables to set in the container (--env), "
                                           "over the image's own.").tag(config=True)
    pwd = Unicode(None, allow_none=True, help="The working directory inside the container "
                                              "(--pwd); by default the notebook's.").tag(
        config=True)
    writable_tmpfs = Bool(False, help="A writable in-memory layer over the image, dropped "
                                      "with the kernel (--writable-tmpfs).").tag(config=True)
    overlay = List(Unicode(), help="Overlay directories, as --overlay: DIR[:ro].").tag(
        config=True)
    user_site = Bool(False, help="Let the kernel import packages from the user site "
                                 "directory of the home (~/.local/lib/pythonX.Y); off by "
                                 "default, since those were installed for the host's "
                                 "Python.").tag(config=True)
    # Limitation: without unsquash, each kernel mounts its image afresh, and a new squashfs
    # mount decompresses again every file the kernel imports: a warm start then costs about
    # 1.4x bwrap on the unpacked tree. Sharing one mount between kernels would remove that.
    unsquash = Bool(False, help="Run a SIF image from a copy extracted once into the cache "
                                "instead of mounting it: faster kernel starts for more disk "
                                "space (--unsquash).").tag(config=True)
    launch_timeout = Float(300.0, help="Seconds a started kernel may take to open its ports "
                                       "(mounting the image comes before, unbounded).").tag(
        config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stderr: StderrTail | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Write the connection file as for a local kernel, then refuse an image other
        than the one the notebook pins, and record this image for the notebook's pin."""
        kwargs = await super().pre_launch(**kwargs)
        notebook = kwargs.get("env", {}).get("JPY_SESSION_NAME", "")
        if notebook:
            await asyncio.to_thread(check_pin, notebook, self.image)
            await asyncio.to_thread(record_kernel_start, notebook, self)
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Start the kernel's container and return once the kernel has opened its ports;
        raise, with one sentence saying why, if it ends first."""
        options = self._container_options(kwargs.get("env") or dict(os.environ))
        reader, writer = os.pipe2(os.O_CLOEXEC)
        self._stderr = StderrTail(os.fdopen(reader, "rb"), self.image)
        try:
            with connection.connection_file_descriptor(self.connection_info) as descriptor:
                argv = connection.kernel_argv(self.kernel_argv, descriptor)
                # Mounting the image may take a while: keep the server's event loop free.
                self.process = await asyncio.to_thread(
                    start_container, self.image, "exec", argv, options,
                    stdin=subprocess.DEVNULL, stderr=writer, cwd=kwargs.get("cwd"),
                    pass_fds=(descriptor,))
        finally:
            os.close(writer)
        self.pid = self.process.pid
        self.pgid = None
        self.cwd = kwargs.get("cwd") or os.getcwd()
        await self._wait_until_reachable(argv)
        return self.connection_info

    async def poll(self) -> int | None:
        """None while the kernel's container runs, else the kernel's exit status."""
        return None if self.process is None else self.process.poll()

    async def wait(self) -> int | None:
        """Wait for the container to end (callers bound this with a timeout); afterwards
        the provisioner has no process."""
        if self.process is None:
            return None
        while (status := self.process.poll()) is None:
            await asyncio.sleep(0.1)
        self.process = None
        return status

    async def send_signal(self, signum: int) -> None:
        """Deliver signum to the kernel: the launcher and the container's init pass it on.
        SIGKILL cannot be passed on; it ends the container's init, and with it every
        process in the container."""
        if self.process is None:
            return
        if signum == signal.SIGKILL:
            _kill_container(self.process.pid)
            return
        self.process.send_signal(signum)

    async def kill(self, restart: bool = False) -> None:
        """End the kernel and everything in its container at once."""
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        """Ask the kernel to end (SIGTERM); its container ends with it."""
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Release the ports (unless restarting) and forget the ended container."""
        await super().cleanup(restart=restart)
        self._stderr = None

    async def _wait_until_reachable(self, argv: list[str]) -> None:
        deadline = time.monotonic() + self.launch_timeout
        while not self._ports_open():
            status = self.process.poll()
            if status is not None:
                lines = await asyncio.to_thread(self._stderr.lines)
                self.process = None
                raise startup_failure(self.image, argv, status, lines)
            if time.monotonic() > deadline:
                await self.kill()
                await asyncio.wait_for(self.wait(), timeout=30)
                raise start_timeout(self.image, self.launch_timeout)
            await asyncio.sleep(STARTUP_POLL)

    def _ports_open(self) -> bool:
        """Whether the kernel listens on its heartbeat port, which ipykernel opens after
        the others."""
        info = self.connection_info
        if info.get("transport", "tcp") != "tcp":
            return os.path.exists(f"{info['ip']}-{info['hb_port']}")
        try:
            with socket.create_connection((info["ip"], info["hb_port"]), timeout=0.2):
                return True
        except OSError:
            return False

    def _container_options(self, env: dict[str, str]) -> ContainerOptions:
        return ContainerOptions(
            binds=list(self.binds), home=self.home, no_home=self.no_home,
            contain=self.contain, containall=self.containall, cleanenv=self.cleanenv,
            env={**kernel_overrides(self.user_site), **self.env}, pwd=self.pwd,
            writable_tmpfs=self.writable_tmpfs, overlays=list(self.overlay),
            unsquash=self.unsquash, host_env=server_environment(env))


def _kill_container(launcher: int) -> None:
    """SIGKILL the container's init (the launcher's child): the kernel goes with its PID
    namespace, and the launcher, seeing init end, removes what it made and exits."""
    try:
        with open(f"/proc/{launcher}/task/{launcher}/children") as handle:
            children = [int(pid) for pid in handle.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return
    for pid in children or [launcher]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
