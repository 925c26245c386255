"""User namespaces for callers who are not root: the caller's own IDs mapped 1:1, or,
with --fakeroot, the caller as root (plus their subordinate IDs when /etc/subuid lists
them, through the setuid newuidmap and newgidmap)."""

import os

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.launch import syscalls as sc

NO_USERNS = ("cannot create a user namespace: unprivileged user namespaces are disabled on "
             "this machine; ask an administrator to enable them (sysctl "
             "user.max_user_namespaces) or run as root")


def enter(fakeroot: bool, user_name: str) -> None:
    """Move this process into a new user namespace with its IDs mapped."""
    uid, gid = os.getuid(), os.getgid()
    ranges = (_subordinate("/etc/subuid", user_name, uid),
              _subordinate("/etc/subgid", user_name, uid)) if fakeroot else (None, None)
    if ranges[0] and ranges[1]:
        if _enter_with_helpers(uid, gid, ranges):
            return
        # The helpers refused; the namespace exists, so map it as a root-mapped one.
        _write_maps(0 if fakeroot else uid, uid, 0 if fakeroot else gid, gid)
        return
    _unshare_user()
    _write_maps(0 if fakeroot else uid, uid, 0 if fakeroot else gid, gid)


def _unshare_user() -> None:
    try:
        sc.unshare(sc.CLONE_NEWUSER)
    except OSError as failure:
        if failure.errno in (1, 28, 22):  # EPERM, ENOSPC (limit 0), EINVAL
            raise JupytainerError(NO_USERNS) from None
        raise


def _write_maps(inside_uid: int, uid: int, inside_gid: int, gid: int) -> None:
    with open("/proc/self/setgroups", "w") as handle:
        handle.write("deny")
    with open("/proc/self/uid_map", "w") as handle:
        handle.write(f"{inside_uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{inside_gid} {gid} 1")


def _enter_with_helpers(uid: int, gid: int, ranges) -> bool:
    """Unshare, and have a helper left outside the namespace run newuidmap/newgidmap on
    us: they are setuid programs, which do not work from inside it."""
    ready, go = os.pipe()
    me = os.getpid()
    helper = os.fork()
    if helper == 0:
        os.close(go)
        os.read(ready, 1)
        (sub_uid, uid_count), (sub_gid, gid_count) = ranges
        ok = _run(["newuidmap", str(me), "0", str(uid), "1", "1", str(sub_uid),
                   str(uid_count)])
        ok = ok and _run(["newgidmap", str(me), "0", str(gid), "1", "1", str(sub_gid),
                          str(gid_count)])
        os._exit(0 if ok else 1)
    os.close(ready)
    try:
        _unshare_user()
    finally:
        os.write(go, b"x")
        os.close(go)
    _, status = os.waitpid(helper, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _run(argv: list[str]) -> bool:
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ)
    except OSError:
        return False
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def _subordinate(table: str, user_name: str, uid: int) -> tuple[int, int] | None:
    """The first subordinate range of the user in /etc/subuid or /etc/subgid, if any."""
    try:
        with open(table) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[0] in (user_name, str(uid)):
            try:
                return int(fields[1]), int(fields[2])
            except ValueError:
                continue
    return None
