"""The scriptlets of a stage: `%setup` on the host, `%post` and `%test` inside the container.

`%post` runs as root in the container being built (real root, or root in a user namespace
for an unprivileged build) with a clean environment, `/` as its directory, and the host's
resolv.conf and hosts so that package managers can reach the network.
"""

import os
import signal
import subprocess
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.build import layout, paths, process, userns
from jupytainer.runtime.errors import JupytainerError

ENVIRONMENT_FILE = f"/{layout.META}/env/91-environment.sh"
LABELS_FILE = "/.build.labels"
POST_SCRIPT = "/.post.script"
STAGED_FILES = ("/etc/resolv.conf", "/etc/hosts")
STOP_TIMEOUT = 10


def run_setup(body: str, args: str, rootfs: Path, label: str = "setup") -> None:
    """Run `%setup` (or the legacy `%pre`) on the host, as root or root in the build's user
    namespace, with the root filesystem's path in $APPTAINER_ROOTFS."""
    log.info(f"Running {label} scriptlet")
    script = rootfs.parent / f".{rootfs.name}.{label}"
    script.write_text(body)
    env = dict(os.environ)
    for prefix in ("APPTAINER", "SINGULARITY"):
        env[f"{prefix}_ROOTFS"] = str(rootfs)
        env[f"{prefix}_ENVIRONMENT"] = ENVIRONMENT_FILE
    try:
        argv = ["/bin/sh", "-ex", *_interpreter_args(args), str(script)]
        status = process.run_streamed(userns.as_root(argv), env=env)
    finally:
        script.unlink(missing_ok=True)
    if status != 0:
        raise JupytainerError(f"%{label} failed with exit status {status}: see its output "
                              "above")


def post_command(args: str) -> list[str]:
    """The interpreter line for `%post`: `/bin/sh -ex` with the section's arguments; with
    `-c`, everything after it becomes the command that is given the script."""
    words = _interpreter_args(args)
    if "-c" not in words:
        return ["/bin/sh", "-ex", *words, POST_SCRIPT]
    index = words.index("-c")
    command = words[index + 1:]
    if not command:
        raise JupytainerError("bad post section '-c' parameter: missing arguments "
                              "(write e.g. '%post -c /bin/bash')")
    return ["/bin/sh", "-ex", *words[:index], "-c", " ".join([*command, POST_SCRIPT])]


def run_post(body: str, args: str, rootfs: Path, staging: Path, binds: list[str]) -> None:
    """Run `%post` inside the container as root; its output is streamed as it runs."""
    log.info("Running post scriptlet")
    argv = post_command(args)
    script = layout.write(rootfs, POST_SCRIPT, body, 0o755)
    env = {f"{prefix}_{name}": value for prefix in ("APPTAINER", "SINGULARITY")
           for name, value in (("ENVIRONMENT", ENVIRONMENT_FILE), ("LABELS", LABELS_FILE))}
    try:
        status = _in_container(rootfs, "exec", argv, writable=True, cleanenv=True, env=env,
                               binds=[*_staged_binds(staging), *binds])
    finally:
        script.unlink(missing_ok=True)
    if status != 0:
        hint = userns.subordinate_ids_warning()
        raise JupytainerError(f"%post failed with exit status {status}: see its output above"
                              + (f" (if a package manager failed: {hint})" if hint else ""))


def run_test(rootfs: Path, binds: list[str]) -> None:
    """Run the image's test script as `jupytainer test` would."""
    log.info("Running testscript")
    status = _in_container(rootfs, "test", [], binds=binds)
    if status != 0:
        raise JupytainerError(f"%test failed with exit status {status}: fix the test or "
                              "build with --notest")


def _in_container(rootfs: Path, action: str, argv: list[str], **options) -> int:
    """Run action in the root filesystem; an interrupted build ends the container (its
    launcher forwards SIGTERM to the payload; SIGKILL if it does not stop) before going on."""
    from jupytainer.runtime.launch import ContainerOptions, start_container

    options.setdefault("pwd", "/")
    container = start_container(str(rootfs), action, argv,
                                ContainerOptions(fakeroot=not userns.is_root(), **options))
    try:
        return container.wait()
    except BaseException:
        _stop(container)
        raise


def _stop(container) -> None:
    container.send_signal(signal.SIGTERM)
    try:
        try:
            container.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            container.send_signal(signal.SIGKILL)
            container.wait()
    except JupytainerError:
        pass  # the container's own complaint would hide the interruption being handled


def _staged_binds(staging: Path) -> list[str]:
    """Copies of the host's resolv.conf and hosts (with a final newline), bound over the
    image's own, which may be missing, empty or links into /run."""
    binds = []
    for path in STAGED_FILES:
        if not os.path.exists(path):
            continue
        copy = staging / Path(path).name
        text = Path(path).read_text()
        copy.write_text(text if text.endswith("\n") else text + "\n")
        binds.append(f"{copy}:{path}")
    return binds


def _interpreter_args(args: str) -> list[str]:
    return args.split("#", 1)[0].split()


def remove_leftovers(rootfs: Path) -> None:
    """Files the build writes for its own use, not part of the image."""
    for name in (POST_SCRIPT, LABELS_FILE):
        target = paths.inside(rootfs, name)
        if target.is_file():
            target.unlink()
