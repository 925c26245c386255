"""`jupytainer cache list|clean`: what the per-user cache holds (downloaded OCI blobs,
extracted images...), its size and age, and removing it - all of it, by type, or what is
older than some days."""

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.sif.text import readable_size

BLOB = "blob"
_DAY = 86400


@dataclass
class Entry:
    kind: str
    name: str
    path: Path
    size: int
    modified: float


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    actions = parser.add_subparsers(dest="action", metavar="list|clean", required=True)
    listing = actions.add_parser("list", help="show the cache's entries and the space they use")
    listing.add_argument("-v", "--verbose", action="store_true", help="one line per entry")
    cleaning = actions.add_parser("clean", help="remove cache entries")
    cleaning.add_argument("-f", "--force", action="store_true", help="do not ask first")
    cleaning.add_argument("-n", "--dry-run", action="store_true",
                          help="only show what would be removed")
    cleaning.add_argument("-D", "--days", type=int, metavar="N",
                          help="only remove entries older than N days")
    for sub in (listing, cleaning):
        sub.add_argument("-T", "--type", action="append", default=[], metavar="TYPES",
                         help="only these types (comma list: blob, sandbox, digests, ...)")


def run(args: argparse.Namespace) -> int:
    from jupytainer.runtime.cache import cache_root

    root = Path(cache_root())
    kinds = {name.strip() for value in args.type for name in value.split(",") if name.strip()}
    found = [entry for entry in entries(root) if not kinds or entry.kind in kinds]
    if args.action == "list":
        _list(found, args.verbose)
    else:
        _clean(found, root, args)
    return 0


def entries(root: Path) -> list[Entry]:
    """Every entry of the cache: each blob by digest, each child of the other types."""
    if not root.is_dir():
        return []
    found = []
    for kind_dir in sorted(path for path in root.iterdir() if path.is_dir()):
        if kind_dir.name == BLOB:
            children = [blob for algorithm in (kind_dir / "blobs").glob("*")
                        for blob in algorithm.iterdir()]
            children += list((kind_dir / "partial").glob("*"))
        else:
            children = list(kind_dir.iterdir())
        found += [_entry(kind_dir.name, child) for child in sorted(children)]
    return found


def _entry(kind: str, path: Path) -> Entry:
    status = path.lstat()
    return Entry(kind, path.name, path, _size(path), status.st_mtime)


def _size(path: Path) -> int:
    if not path.is_dir() or path.is_symlink():
        return path.lstat().st_size
    return sum(os.lstat(os.path.join(folder, name)).st_size
               for folder, _, names in os.walk(path) for name in names)


def _list(found: list[Entry], verbose: bool) -> None:
    if verbose:
        print(f"{'NAME':<24} {'DATE CREATED':<22} {'SIZE':<16} TYPE")
        for entry in found:
            created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.modified))
            size = readable_size(entry.size)
            print(f"{entry.name[:22]:<24} {created:<22} {size:<16} {entry.kind}")
        print()
    blobs = [entry for entry in found if entry.kind == BLOB]
    others = [entry for entry in found if entry.kind != BLOB]
    print(f"There are {len(others)} container file(s) using "
          f"{readable_size(sum(entry.size for entry in others))} and {len(blobs)} oci blob file(s) "
          f"using {readable_size(sum(entry.size for entry in blobs))} of space")
    print(f"Total space used: {readable_size(sum(entry.size for entry in found))}")


def _clean(found: list[Entry], root: Path, args: argparse.Namespace) -> None:
    if args.days is not None:
        cutoff = time.time() - args.days * _DAY
        found = [entry for entry in found if entry.modified < cutoff]
    if not found:
        log.info(f"No cached files to remove at {root}")
        return
    if not (args.force or args.dry_run or _confirmed()):
        raise JupytainerError("cache clean needs a confirmation: answer y, or add --force")
    for entry in found:
        if args.dry_run:
            log.info(f"Would remove {entry.kind} cache entry: {entry.name}")
            continue
        log.info(f"Removing {entry.kind} cache entry: {entry.name}")
        # Limitation: an extracted image still in use by a running container is removed
        # all the same; the container keeps its open files but loses the rest.
        if entry.path.is_dir() and not entry.path.is_symlink():
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            entry.path.unlink(missing_ok=True)


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        return False
    sys.stderr.write("This will delete everything in your cache (containers from all sources "
                     "and OCI blobs).\nDo you want to continue? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
