"""`Bootstrap: debootstrap`: a Debian or Ubuntu root filesystem from a mirror (MirrorURL,
by default the one apt on this machine uses), release OSVersion, extra packages Include.

Unprivileged, debootstrap runs as root in a user namespace; its device-node test cannot pass
there, so it is told it runs in a container (container=lxc), where it binds /dev entries
instead of creating them.
"""

import os
import re
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.build import apt_sources, process, userns
from jupytainer.runtime.deffile.model import Stage
from jupytainer.runtime.errors import JupytainerError


def bootstrap(stage: Stage, rootfs: Path, context) -> None:
    release = stage.header.get("osversion")
    if not release:
        raise JupytainerError("Bootstrap: debootstrap needs OSVersion, the release to "
                              "install (e.g. OSVersion: bookworm)")
    mirror = stage.header.get("mirrorurl") or apt_sources.default_mirror()
    warning = userns.subordinate_ids_warning()
    if warning:
        log.warning(warning)

    log.info(f"Installing Debian {release} from {mirror}")
    argv = ["debootstrap", "--variant=minbase", *_include(stage), release, str(rootfs), mirror]
    env = dict(os.environ)
    if not userns.is_root():
        env["container"] = "lxc"
    if userns.is_root():
        argv = ["unshare", "--mount", "--pid", "--fork", *argv]
    status = process.run_streamed(userns.as_root(argv, mount_namespace=True), env=env)
    if status != 0:
        raise JupytainerError(f"debootstrap of {release} from {mirror} failed (exit status "
                              f"{status}): see its output above"
                              + (f"; {warning}" if warning else ""))


def _include(stage: Stage) -> list[str]:
    packages = [name for name in re.split(r"[,\s]+", stage.header.get("include", "")) if name]
    return [f"--include={','.join(packages)}"] if packages else []
