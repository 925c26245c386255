"""Layers applied in order with whiteouts, and every kind of hostile layer: whatever a layer
holds, nothing is written outside the root, and each unsafe entry fails or is handled with
a clear message - as root and as an unprivileged user."""

import json
import os
import stat
import subprocess

import pytest

from oci_images import (Layer, Layout, device, directory, failure, file, hardlink,
                        single_image, symlink, unpack_as)

BASE = Layer([directory("etc"), file("etc/keep", "keep"), file("etc/gone", "gone"),
              directory("opt"), file("opt/old", "old"), directory("usr"),
              directory("usr/bin"), symlink("bin", "usr/bin"), file("usr/bin/tool", "v1")])


def unpack(identity, layers, **options):
    source = single_image(identity.workdir / "layout", layers)
    rootfs = identity.workdir / "rootfs"
    return unpack_as(identity, source, rootfs, **options), rootfs



def test_layers_apply_in_order_with_whiteouts_and_opaque_directories(identity):
    upper = Layer([file("etc/.wh.gone"), directory("opt"), file("opt/new", "new"),
                   file("opt/.wh..wh..opq"), file("bin/added", "through the symlink"),
                   file("usr/bin/tool", "v2")])
    result, rootfs = unpack(identity, [BASE, upper])
    assert result.returncode == 0, result.stderr
    assert (rootfs / "etc/keep").read_text() == "keep"
    assert not (rootfs / "etc/gone").exists()
    assert sorted(os.listdir(rootfs / "opt")) == ["new"]
    assert (rootfs / "usr/bin/added").read_text() == "through the symlink"
    assert (rootfs / "usr/bin/tool").read_text() == "v2"
    assert os.readlink(rootfs / "bin") == "usr/bin"


def test_uncompressed_and_zstd_layers_are_read(identity):
    layers = [Layer([file("a", "plain")], None), Layer([file("b", "zstd")], "zstd")]
    result, rootfs = unpack(identity, layers)
    assert result.returncode == 0, result.stderr
    assert (rootfs / "a").read_text() + (rootfs / "b").read_text() == "plainzstd"


def test_entry_with_dot_dot_is_refused_and_nothing_escapes(identity):
    result, rootfs = unpack(identity, [Layer([file("etc/../../escaped", "x")])])
    assert "'etc/../../escaped' contains '..'" in failure(result)
    assert "damaged or malicious" in failure(result)
    assert not (identity.workdir / "escaped").exists()
    assert not rootfs.exists()


def test_absolute_paths_land_inside_the_root(identity):
    result, rootfs = unpack(identity, [Layer([file("/abs", "inside")])])
    assert result.returncode == 0, result.stderr
    assert (rootfs / "abs").read_text() == "inside"


@pytest.mark.parametrize("target", ["/outside", "../../outside", "../../../../../outside"])
def test_writes_through_a_symlink_pointing_out_stay_inside(identity, target):
    outside = identity.workdir / "outside"
    layers = [Layer([symlink("link", target)]),
              Layer([file("link/planted", "payload"), directory("link/deeper"),
                     file("link/deeper/more", "payload")])]
    result, rootfs = unpack(identity, layers)
    assert result.returncode == 0, result.stderr
    assert not outside.exists()
    assert (rootfs / "outside/planted").read_text() == "payload"
    assert (rootfs / "outside/deeper/more").read_text() == "payload"


def test_a_file_replacing_a_symlink_does_not_write_through_it(identity):
    victim = identity.workdir / "victim"
    victim.write_text("untouched")
    identity.make_owned(victim)
    layers = [Layer([symlink("file", str(victim))]), Layer([file("file", "replaced")])]
    result, rootfs = unpack(identity, layers)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "untouched"
    assert (rootfs / "file").read_text() == "replaced"


def test_symlink_loops_are_refused(identity):
    layers = [Layer([symlink("a", "b"), symlink("b", "a")]), Layer([file("a/x", "x")])]
    result, _ = unpack(identity, layers)
    assert "too many levels of symbolic links" in failure(result)


def test_hard_link_climbing_out_of_the_root_is_refused(identity):
    result, _ = unpack(identity, [Layer([hardlink("passwd", "../../../../etc/passwd")])])
    message = failure(result)
    assert "hard link 'passwd' -> '../../../../etc/passwd' points outside" in message


def test_hard_links_resolve_inside_the_root_only(identity):
    layers = [Layer([symlink("hostetc", "/etc")]),
              Layer([hardlink("passwd", "/etc/passwd")]),
              Layer([hardlink("viasymlink", "hostetc/passwd")])]
    result, _ = unpack(identity, layers[:2])
    assert "hard link 'passwd' -> '/etc/passwd' has no file to link to" in failure(result)
    result, _ = unpack(identity, [layers[0], layers[2]])
    assert "has no file to link to" in failure(result)


def test_hard_links_inside_the_image_share_the_file(identity):
    layers = [Layer([file("data", "shared"), hardlink("alias", "data")])]
    result, rootfs = unpack(identity, layers)
    assert result.returncode == 0, result.stderr
    assert (rootfs / "alias").stat().st_ino == (rootfs / "data").stat().st_ino


def test_device_nodes_need_root(identity):
    result, rootfs = unpack(identity, [Layer([directory("dev"), device("dev/null")])])
    assert result.returncode == 0, result.stderr
    if identity.is_root:
        assert stat.S_ISCHR((rootfs / "dev/null").lstat().st_mode)
    else:
        assert not (rootfs / "dev/null").exists()
        assert "skipped 1 device node(s) (dev/null): creating them needs root" in result.stderr


def test_setuid_bits_are_kept_only_by_root(identity):
    result, rootfs = unpack(identity, [Layer([file("su", "x", mode=0o4755)])])
    assert result.returncode == 0, result.stderr
    mode = (rootfs / "su").stat().st_mode
    if identity.is_root:
        assert mode & stat.S_ISUID
    else:
        assert not mode & stat.S_ISUID
        assert "cleared the setuid/setgid bit of 1 file(s) (su)" in result.stderr


def test_owners_come_from_the_layer_when_root(identity):
    result, rootfs = unpack(identity, [Layer([file("owned", "x", uid=1234, gid=5678)])])
    assert result.returncode == 0, result.stderr
    found = (rootfs / "owned").stat()
    expected = (1234, 5678) if identity.is_root else (identity.uid, identity.gid)
    assert (found.st_uid, found.st_gid) == expected


def test_a_layer_whose_digest_does_not_match_is_refused(identity):
    layout = Layout(identity.workdir / "layout")
    descriptor = layout.image([Layer([file("a", "original")])])
    manifest_path = layout.path / "blobs/sha256" / descriptor["digest"].split(":")[1]
    layer_digest = json.loads(manifest_path.read_bytes())["layers"][0]["digest"]
    tampered = Layer([file("a", "tampered")]).blob
    (layout.path / "blobs/sha256" / layer_digest.split(":")[1]).write_bytes(tampered)
    layout.tag(descriptor, "latest")
    result = unpack_as(identity, f"oci:{layout.path}", identity.workdir / "rootfs")
    assert "layer 1/1" in failure(result) and "is corrupt: its content hashes to" in failure(
        result)
    assert not (identity.workdir / "rootfs").exists()


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_truncated_layers_are_refused(identity, compression):
    payload = os.urandom(200_000)
    whole = Layer([file("big", payload)], compression).blob
    cut = whole[: len(whole) // 2]
    layout = Layout(identity.workdir / "layout")
    descriptor = layout.image([Layer([file("big", payload)], compression)])
    for path in (layout.path / "blobs/sha256").iterdir():
        if path.read_bytes() == whole:
            path.write_bytes(cut)
    layout.tag(descriptor, "latest")
    result = unpack_as(identity, f"oci:{layout.path}", identity.workdir / "rootfs")
    assert "layer 1/1" in failure(result) and "is truncated or corrupt" in failure(result)


@pytest.fixture
def small_filesystem(identity):
    """A tmpfs of 1 MiB and 16 inodes the identity owns, unmounted afterwards."""
    mountpoint = identity.workdir / "small"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=16", "tmpfs",
                    str(mountpoint)], check=True)
    identity.make_owned(mountpoint)
    yield mountpoint
    subprocess.run(["umount", str(mountpoint)], check=True)


def test_a_tar_bomb_bigger_than_the_free_space_is_refused(identity, small_filesystem):
    bomb = Layer([file("bomb", bytes(8 << 20))])
    source = single_image(identity.workdir / "layout", [bomb])
    result = unpack_as(identity, source, small_filesystem / "rootfs")
    message = failure(result)
    assert "'bomb' needs 8 MiB but only" in message and "free some space" in message
    assert not (small_filesystem / "rootfs").exists()


def test_running_out_of_space_midway_says_so(identity, small_filesystem):
    many = Layer([file(f"part{index}", "small") for index in range(40)])
    source = single_image(identity.workdir / "layout", [many])
    result = unpack_as(identity, source, small_filesystem / "rootfs")
    assert "no space left under" in failure(result)
    assert not (small_filesystem / "rootfs").exists()


def test_unpacking_into_a_non_empty_directory_is_refused(identity):
    rootfs = identity.workdir / "rootfs"
    rootfs.mkdir()
    identity.make_owned(rootfs)
    (rootfs / "precious").write_text("mine")
    source = single_image(identity.workdir / "layout", [BASE])
    result = unpack_as(identity, source, rootfs)
    assert "cannot unpack into" in failure(result) and "not an empty directory" in failure(
        result)
    assert (rootfs / "precious").read_text() == "mine"


def test_metadata_is_written_inside_the_root_even_if_the_image_redirects_it(identity):
    outside = identity.workdir / "elsewhere"
    layers = [Layer([symlink(".singularity.d", str(outside))])]
    result, rootfs = unpack(identity, layers)
    assert result.returncode == 0, result.stderr
    assert not outside.exists()
    assert (rootfs / outside.relative_to("/") / "runscript").is_file()
