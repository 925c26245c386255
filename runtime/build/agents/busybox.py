"""`Bootstrap: busybox`: a root filesystem made of one static busybox binary (MirrorURL,
http(s):// or file://) and a link to it for each of its applets."""

import os
import subprocess
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.build import download, userns
from jupytainer.runtime.deffile.model import Stage
from jupytainer.runtime.errors import JupytainerError

ACCOUNTS = {"etc/passwd": "root:!:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n"}


def bootstrap(stage: Stage, rootfs: Path, context) -> None:
    url = stage.header.get("mirrorurl")
    if not url:
        raise JupytainerError("Bootstrap: busybox needs MirrorURL, the URL of a static "
                              "busybox binary (e.g. MirrorURL: file:///bin/busybox from "
                              "Debian's busybox-static)")
    for directory in ("bin", "etc", "root", "tmp"):
        (rootfs / directory).mkdir(mode=0o755, exist_ok=True)
    binary = rootfs / "bin/busybox"
    download.fetch(url, binary, "MirrorURL")
    os.chmod(binary, 0o755)

    log.info("Installing busybox applets")
    for applet in _applets(rootfs, url):
        link = rootfs / "bin" / applet
        if applet != "busybox" and not os.path.lexists(link):
            link.symlink_to("busybox")
    for name, text in ACCOUNTS.items():
        (rootfs / name).write_text(text)


def _applets(rootfs: Path, url: str) -> list[str]:
    """Ask the binary itself, inside the new root, so a binary that needs libraries fails."""
    argv = userns.as_root(["chroot", str(rootfs), "/bin/busybox", "--list"])
    result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise JupytainerError(f"MirrorURL {url} is not a static busybox binary for this "
                              f"machine ({result.stderr.strip() or 'it does not run'}): "
                              "give a static build, e.g. Debian's busybox-static")
    return [name for name in result.stdout.split() if "/" not in name]
