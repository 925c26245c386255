"""Root inside a user namespace, for unprivileged builds.

An unprivileged build makes root filesystems whose files belong to several IDs (root, _apt,
man...). It runs the tools that create, read or delete such files (debootstrap, mksquashfs,
tar, rm) in a user namespace where the caller is root and, when /etc/subuid and /etc/subgid
give the caller ranges, IDs 1..N map onto those ranges (util-linux `unshare --map-auto`, which
uses the setuid newuidmap/newgidmap). Every such namespace uses the same mapping, so a file
written in one is seen with the same owner in the next.
"""

import functools
import getpass
import os
import pwd
from pathlib import Path

SUBID_TABLES = (Path("/etc/subuid"), Path("/etc/subgid"))

WITHOUT_SUBIDS = ("there are no subordinate IDs for {user} in /etc/subuid and /etc/subgid, "
                  "so only root exists inside the build: installing packages that own files "
                  "as another user (apt's _apt, man...) may fail with 'Invalid argument' "
                  "from chown; ask an administrator to add ranges "
                  "(usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}) "
                  "or build as root")


def is_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def caller_name() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return getpass.getuser()


@functools.cache
def has_subordinate_ids() -> bool:
    """Whether both tables give the caller (by name or UID) a range."""
    keys = {caller_name(), str(os.geteuid())}
    return all(_table_names(table) & keys for table in SUBID_TABLES)


def _table_names(table: Path) -> set[str]:
    try:
        lines = table.read_text().splitlines()
    except OSError:
        return set()
    return {line.split(":", 1)[0] for line in lines if ":" in line}


def as_root(argv: list[str], *, mount_namespace: bool = False) -> list[str]:
    """argv as root would run it: unchanged for root, else inside a root-mapped namespace.

    mount_namespace also gives the command private mount and PID namespaces (with its own
    /proc), so mounts it makes (debootstrap's /proc, /dev binds) vanish with it.
    """
    if is_root():
        return argv
    prefix = ["unshare", "--map-root-user"]
    if has_subordinate_ids():
        prefix.append("--map-auto")
    if mount_namespace:
        prefix += ["--mount", "--pid", "--fork", "--mount-proc"]
    return [*prefix, *argv]


def subordinate_ids_warning() -> str | None:
    """Why an unprivileged package install may fail here, or None when it should work."""
    if is_root() or has_subordinate_ids():
        return None
    return WITHOUT_SUBIDS.format(user=caller_name())
