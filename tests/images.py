"""Small images the tests build themselves: a busybox root file system (Debian's
busybox-static) with the /.singularity.d layout Apptainer's builds make, as a sandbox
directory or as a SIF file (mksquashfs, then the SIF writer)."""

import os
import shutil
import subprocess
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
RUNSCRIPT = '#!/bin/sh\n\necho "runscript args: $*"\n'
TESTSCRIPT = '#!/bin/sh\n\necho "test script ran"\nexit 3\n'
ENVIRONMENT = ("#!/bin/sh\n# Custom environment shell code should follow\n\n"
               "export IMAGE_VAR=from-image\n")


def busybox_rootfs(target: Path) -> Path:
    """A runnable root file system at target: busybox and its applet links, the directories
    and files Apptainer's build creates, a runscript, a test script and an environment."""
    for directory in ("bin", "dev", "proc", "sys", "tmp", "var/tmp", "etc", "home", "root",
                      "usr/bin", "mnt/data", "srv", "opt", ".singularity.d/env",
                      ".singularity.d/actions", ".singularity.d/libs"):
        (target / directory).mkdir(parents=True, exist_ok=True)
    os.chmod(target / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, target / "bin" / "busybox")
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        link = target / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (target / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                           "nobody:x:65534:65534:nobody:/:/bin/false\n")
    (target / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    for name in ("hosts", "resolv.conf", "localtime", "hostname"):
        (target / "etc" / name).write_text("")
    _script(target / ".singularity.d" / "runscript", RUNSCRIPT)
    _script(target / ".singularity.d" / "test", TESTSCRIPT)
    _script(target / ".singularity.d" / "env" / "01-base.sh", "#!/bin/sh\n# \n")
    _script(target / ".singularity.d" / "env" / "90-environment.sh", ENVIRONMENT)
    (target / "singularity").symlink_to(".singularity.d/runscript")
    os.chmod(target, 0o755)
    return target


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def squashfs_of(rootfs: Path, target: Path) -> Path:
    """A squashfs file of rootfs with every file owned by root, as a build makes it."""
    subprocess.run(["mksquashfs", str(rootfs), str(target), "-noappend", "-all-root",
                    "-quiet", "-no-progress"], check=True, capture_output=True)
    return target


def sif_of(rootfs: Path, target: Path, arch: str = "amd64") -> Path:
    """A SIF image holding rootfs as its primary squashfs partition."""
    from jupytainer.runtime import sif

    partition = squashfs_of(rootfs, target.with_suffix(".squashfs"))
    with sif.create(target, launch_script=b"#!/usr/bin/env run-singularity\n") as image:
        image.add_object(sif.ObjectInput(
            sif.DataType.PARTITION, data=partition,
            partition=sif.PartitionInfo(sif.FsType.SQUASHFS, sif.PartType.PRIMARY_SYSTEM,
                                        arch)))
    partition.unlink()
    os.chmod(target, 0o755)
    return target
