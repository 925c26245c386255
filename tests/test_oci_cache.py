"""`jupytainer cache list|clean` over a cache filled by real pulls from the local registry."""

import os
import time

import pytest

from oci_images import Layer, file, single_image, unpack_as


@pytest.fixture
def filled(identity, registry):
    """A cache holding the three blobs of a pulled image, and one extracted image."""
    single_image(identity.workdir / "layout", [Layer([file("a", "x" * 5000)])])
    pushed = registry.push(identity.workdir / "layout", "latest", f"cache/{identity.name}")
    result = unpack_as(identity, pushed, identity.workdir / "rootfs")
    assert result.returncode == 0, result.stderr
    sandbox = identity.workdir / "cache/cache/sandbox/0123456789abcdef0123456789"
    sandbox.mkdir(parents=True)
    (sandbox / "file").write_text("y" * 1000)
    for path in (sandbox, sandbox / "file"):
        identity.make_owned(path)
    identity.make_owned(sandbox.parent)
    return identity.workdir / "cache"


def cache(identity, cachedir, *args):
    return identity.jupytainer("cache", *args, env={"JUPYTAINER_CACHEDIR": str(cachedir)})


def test_list_summarises_and_details_the_entries(identity, filled):
    result = cache(identity, filled, "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("There are 1 container file(s) using 1000 B and 2 oci blob "
                               "file(s) using ")
    assert lines[1].startswith("Total space used: ")
    verbose = cache(identity, filled, "list", "-v").stdout.splitlines()
    assert verbose[0].split() == ["NAME", "DATE", "CREATED", "SIZE", "TYPE"]
    assert any(line.startswith("0123456789abcdef012345  ") and line.endswith(" sandbox")
               for line in verbose)


def test_clean_dry_run_removes_nothing(identity, filled):
    result = cache(identity, filled, "clean", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("INFO:    Would remove blob cache entry: ") == 2
    assert "Would remove sandbox cache entry: 0123456789abcdef0123456789" in result.stderr
    assert "There are 1 container file(s)" in cache(identity, filled, "list").stdout


def test_clean_by_type_and_age(identity, filled):
    result = cache(identity, filled, "clean", "--force", "--days", "1")
    assert "INFO:    No cached files to remove at " in result.stderr
    old = time.time() - 3 * 86400
    os.utime(filled / "cache/sandbox/0123456789abcdef0123456789", (old, old))
    result = cache(identity, filled, "clean", "-f", "-D", "2", "-T", "sandbox,blob")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "INFO:    Removing sandbox cache entry: 0123456789abcdef0123456789"]
    result = cache(identity, filled, "clean", "-f", "-T", "blob")
    assert result.stderr.count("Removing blob cache entry") == 2
    assert cache(identity, filled, "list").stdout.splitlines()[-1] == \
        "Total space used: 0 B"


def test_clean_asks_before_removing_everything(identity, filled):
    result = cache(identity, filled, "clean")
    assert result.returncode == 255
    assert "FATAL:   cache clean needs a confirmation: answer y, or add --force" in result.stderr
    assert "oci blob" in cache(identity, filled, "list").stdout
