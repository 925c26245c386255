"""The container's view of the file system, built inside its new mount namespace: the
image, an overlay when something must be written, /proc, /sys, /dev, the binds, the
generated /etc/passwd and /etc/group; then pivot_root into it.

Everything is mounted below a private tmpfs (the session directory), so that the whole
view disappears with the mount namespace and nothing is left on the host.
"""

import os

from jupytainer.runtime import squashfs
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch import syscalls as sc
from jupytainer.runtime.launch.accounts import group_file, passwd_file
from jupytainer.runtime.launch.paths import host_path, resolve_inside
from jupytainer.runtime.launch.plan import Mount, Plan

# statvfs flags -> the mount flags a read-only remount must repeat, or the kernel refuses
# it on mounts locked by a user namespace.
_KEPT_FLAGS = ((os.ST_NOSUID, sc.MS_NOSUID), (os.ST_NODEV, sc.MS_NODEV),
               (os.ST_NOEXEC, sc.MS_NOEXEC), (os.ST_NOATIME, sc.MS_NOATIME),
               (os.ST_NODIRATIME, sc.MS_NODIRATIME), (os.ST_RELATIME, sc.MS_RELATIME))

KERNEL_MOUNTS = ("/proc", "/sys", "/dev")


def build_view(plan: Plan) -> None:
    """Assemble the container's root and make it this process's root directory."""
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_SLAVE)
    sc.mount("tmpfs", plan.session, "tmpfs", sc.MS_NOSUID | sc.MS_NODEV, "mode=0755")
    # Recursive binds of the session's parent (/tmp, say) must not copy the session.
    sc.mount(None, plan.session, None, sc.MS_UNBINDABLE)
    # Generated files and private directories are bind sources: they need a mount of
    # their own, since nothing below an unbindable mount can be bound elsewhere.
    sc.mount("tmpfs", _session_dir(plan, "files"), "tmpfs", sc.MS_NOSUID | sc.MS_NODEV,
             "mode=0755")
    image = _session_dir(plan, "image")
    _mount_image(plan, image)

    root = _root_layers(plan, image)
    _check_cwd(plan, root)
    _prepare_destinations(plan, root)

    _mount_kernel_filesystems(plan, root)
    for mount in plan.mounts:
        _bind(root, mount)
    _mount_private_dirs(plan, root)
    _mount_accounts(plan, root)
    _mount_hostname(plan, root)
    _enter(root)


def _session_dir(plan: Plan, name: str, mode: int = 0o755) -> str:
    path = os.path.join(plan.session, name)
    os.mkdir(path, mode)
    return path


def _mount_image(plan: Plan, target: str) -> None:
    image = plan.image
    if plan.rootfs == "loop":
        squashfs.loop_mount(image.path, image.partition_offset, image.partition_size, target)
    elif plan.rootfs == "fuse":
        squashfs.fuse_mount(plan.mounter, image.path, image.partition_offset, target)
    else:
        sc.mount(plan.rootfs_path, target, None, sc.MS_BIND | sc.MS_REC)
        if not plan.writable:
            _remount_read_only(target)


def _root_layers(plan: Plan, image: str) -> str:
    """The directory that becomes the root: the image, or an overlay over it."""
    if plan.writable_tmpfs or plan.overlays:
        return _overlay(plan, image)
    return image


def _overlay(plan: Plan, image: str) -> str:
    """An overlay of the image (and --overlay directories) with a writable upper layer:
    a tmpfs, or the one --overlay directory that is not read-only."""
    lowers = [path for path, read_only in reversed(plan.overlays) if read_only] + [image]
    writable = [path for path, read_only in plan.overlays if not read_only]
    if len(writable) > 1:
        raise JupytainerError("only one --overlay directory can be writable: add :ro to "
                              "the others")
    if writable:
        upper, work = os.path.join(writable[0], "upper"), os.path.join(writable[0], "work")
        os.makedirs(upper, exist_ok=True)
        os.makedirs(work, exist_ok=True)
    else:
        layer = _session_dir(plan, "files/layer")
        upper, work = os.path.join(layer, "upper"), os.path.join(layer, "work")
        os.mkdir(upper, 0o755)
        os.mkdir(work, 0o700)
    root = _session_dir(plan, "root")
    _mount_overlay(plan, ":".join(lowers), upper, work, root)
    return root


def _mount_overlay(plan: Plan, lowers: str, upper: str, work: str, target: str) -> None:
    """Kernel overlayfs, else fuse-overlayfs (when the kernel refuses it to a user)."""
    data = f"lowerdir={lowers},upperdir={upper},workdir={work}"
    try:
        sc.mount("overlay", target, "overlay", 0, data + (",userxattr" if plan.userns else ""))
        return
    except OSError as failure:
        if not plan.userns:
            raise JupytainerError(f"cannot mount the overlay on {plan.image.name}: "
                                  f"{failure.strerror}") from None
    # Limitation: this fallback is exercised only on kernels that refuse the overlay.
    try:
        squashfs.fuse_serve(["/usr/bin/fuse-overlayfs", "-f", "-o", data], target,
                            "fuse.fuse-overlayfs")
    except OSError:
        raise JupytainerError("neither the kernel nor fuse-overlayfs could mount an overlay "
                              "for you: run without --writable-tmpfs/--overlay") from None


def _prepare_destinations(plan: Plan, root: str) -> None:
    """Make sure every mount point exists. A writable root gets them created in it; a
    read-only one gets the directory above a missing one shadowed (see _shadow). A user's
    bind onto a missing destination of a read-only image is an error."""
    can_write = plan.writable or root != os.path.join(plan.session, "image")
    wanted = [(mount.destination, mount.source, mount.user) for mount in plan.mounts
              if not (mount.optional and not os.path.exists(mount.source))]
    wanted += [(path, "/", False) for path in plan.contained_dirs + [plan.cwd]]
    wanted += [(path, "/", False) for path in KERNEL_MOUNTS if path[1:] not in plan.no_mount]
    for destination, source, user in wanted:
        target = host_path(root, resolve_inside(root, destination))
        if os.path.lexists(target):
            continue
        if user and not can_write:
            raise JupytainerError(
                f"bind destination {destination} does not exist in {plan.image.name}: "
                "create it in the image, or use --writable-tmpfs")
        if not os.path.isdir(source) and not user:
            continue
        if can_write and _create_like(source, target):
            continue
        _shadow(plan, root, target)
        _create_like(source, target)


def _shadow(plan: Plan, root: str, target: str) -> None:
    """Let a mount point be made below a directory of a read-only image: a tmpfs replaces
    the deepest existing directory above target, holding binds of everything the image
    had there, and the missing path is then created in that tmpfs."""
    ancestor = os.path.dirname(target)
    while not os.path.isdir(ancestor):
        ancestor = os.path.dirname(ancestor)
    files = os.path.join(plan.session, "files")
    held = _session_dir(plan, f"files/held{len(os.listdir(files))}")
    sc.mount(ancestor, held, None, sc.MS_BIND | sc.MS_REC)
    sc.mount("tmpfs", ancestor, "tmpfs", sc.MS_NOSUID | sc.MS_NODEV, "mode=0755")
    for name in os.listdir(held):
        source, destination = os.path.join(held, name), os.path.join(ancestor, name)
        if os.path.islink(source):
            os.symlink(os.readlink(source), destination)
            continue
        _create_like(source, destination)
        sc.mount(source, destination, None, sc.MS_BIND | sc.MS_REC)


def _create_like(source: str, target: str) -> bool:
    """An empty file or directory at target, to mount source on; False if not allowed."""
    try:
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    except (PermissionError, OSError) as failure:
        # EPERM, EACCES, EROFS; EOVERFLOW when an overlay cannot copy up a directory whose
        # owner the user namespace does not map.
        if failure.errno not in (1, 13, 30, 75):
            raise
        return False
    return True


def _remount_read_only(target: str) -> None:
    flags = sc.MS_REMOUNT | sc.MS_BIND | sc.MS_RDONLY
    kept = os.statvfs(target).f_flag
    for stat_flag, mount_flag in _KEPT_FLAGS:
        if kept & stat_flag:
            flags |= mount_flag
    sc.mount(None, target, None, flags)


def _bind(root: str, mount: Mount) -> None:
    target = host_path(root, resolve_inside(root, mount.destination))
    try:
        flags = sc.MS_BIND | (sc.MS_REC if mount.recursive else 0)
        sc.mount(mount.source, target, None, flags)
        if mount.read_only:
            _remount_read_only(target)
    except OSError as failure:
        if mount.optional:
            return
        raise JupytainerError(f"cannot bind {mount.source} to {mount.destination}: "
                              f"{failure.strerror}") from None


def _mount_kernel_filesystems(plan: Plan, root: str) -> None:
    if "proc" not in plan.no_mount:
        sc.mount("proc", host_path(root, "/proc"), "proc",
                 sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    if "sys" not in plan.no_mount:
        _mount_sys(plan, host_path(root, "/sys"))
    if "dev" not in plan.no_mount:
        if plan.minimal_dev:
            _mount_minimal_dev(plan, host_path(root, "/dev"))
        else:
            sc.mount("/dev", host_path(root, "/dev"), None, sc.MS_BIND | sc.MS_REC)


def _mount_sys(plan: Plan, target: str) -> None:
    """A fresh sysfs when the kernel allows it (root, or a user with a network namespace of
    its own); otherwise the host's, bound."""
    try:
        sc.mount("sysfs", target, "sysfs", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    except OSError:
        sc.mount("/sys", target, None, sc.MS_BIND | sc.MS_REC)


def _mount_minimal_dev(plan: Plan, target: str) -> None:
    """Only the usual device nodes, a private devpts and /dev/shm, as with --contain."""
    # Limitation: /dev/console is not bound to the caller's terminal, as Apptainer does.
    sc.mount("tmpfs", target, "tmpfs", sc.MS_NOSUID | sc.MS_NOEXEC, "mode=0755,size=1m")
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        node = os.path.join(target, name)
        os.close(os.open(node, os.O_CREAT | os.O_WRONLY, 0o666))
        sc.mount(f"/dev/{name}", node, None, sc.MS_BIND)
    for name in ("pts", "shm", "mqueue"):
        os.mkdir(os.path.join(target, name), 0o755)
    options = "newinstance,ptmxmode=0666,mode=0620" + ("" if plan.userns else ",gid=5")
    sc.mount("devpts", os.path.join(target, "pts"), "devpts", sc.MS_NOSUID | sc.MS_NOEXEC,
             options)
    sc.mount("tmpfs", os.path.join(target, "shm"), "tmpfs", sc.MS_NOSUID | sc.MS_NODEV,
             "mode=1777")
    if plan.namespaces & sc.CLONE_NEWIPC:
        sc.mount("mqueue", os.path.join(target, "mqueue"), "mqueue", sc.MS_NOSUID)
    links = {"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
             "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
    for name, destination in links.items():
        os.symlink(destination, os.path.join(target, name))


def _mount_private_dirs(plan: Plan, root: str) -> None:
    """Empty session directories for a contained home, /tmp and /var/tmp."""
    private = list(plan.contained_dirs)
    if plan.private_tmp:
        private += ["/tmp", "/var/tmp"]
    for index, path in enumerate(private):
        source = _session_dir(plan, f"files/private{index}")
        if "tmp" in path:
            os.chmod(source, 0o1777)
        else:
            os.chown(source, plan.uid, plan.gid)
        target = host_path(root, resolve_inside(root, path))
        if os.path.isdir(target):
            sc.mount(source, target, None, sc.MS_BIND)


def _mount_accounts(plan: Plan, root: str) -> None:
    """Bind generated /etc/passwd and /etc/group that know the caller, when the image has
    those files; a writable image run as root keeps its own."""
    if plan.writable and plan.uid == 0:
        return
    files = _session_dir(plan, "files/accounts")
    for name, render in (("passwd", passwd_file), ("group", group_file)):
        if "/etc/" + name in plan.no_mount:
            continue
        target = host_path(root, resolve_inside(root, "/etc/" + name))
        if not os.path.isfile(target):
            continue
        with open(target, encoding="utf-8", errors="surrogateescape") as handle:
            text = render(plan, handle.read())
        generated = os.path.join(files, name)
        with open(generated, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        sc.mount(generated, target, None, sc.MS_BIND)
        _remount_read_only(target)


def _mount_hostname(plan: Plan, root: str) -> None:
    """With --hostname, /etc/hostname (when the image has one) names the container too."""
    target = host_path(root, resolve_inside(root, "/etc/hostname"))
    if not plan.hostname or not os.path.isfile(target):
        return
    generated = os.path.join(plan.session, "files", "hostname")
    with open(generated, "w") as handle:
        handle.write(plan.hostname + "\n")
    sc.mount(generated, target, None, sc.MS_BIND)


def _check_cwd(plan: Plan, root: str) -> None:
    """The working directory must be the same path inside: a symlink there would put the
    payload somewhere else than the caller thinks."""
    if plan.cwd_must_match and resolve_inside(root, plan.cwd) != os.path.normpath(plan.cwd):
        raise JupytainerError(
            f"the working directory {plan.cwd} is reached through a symlink inside "
            f"{plan.image.name}: cd to a directory outside it, or choose one with --pwd")


def _enter(root: str) -> None:
    """Make root the root directory; the old root is detached, leaving no way back."""
    os.chdir(root)
    sc.pivot_root(".", ".")
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")
