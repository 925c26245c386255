"""Damaged or wrong files and impossible requests: each gives one line naming the file and
the problem, a non-zero exit, no traceback, and leaves the file as it was."""

import os
import struct
import subprocess
from pathlib import Path

import pytest

from jupytainer.runtime import sif
from jupytainer.runtime.sif import DataType, FsType, ObjectInput, PartitionInfo, PartType
from conftest import JUPYTAINER
from sif_support import build, jupytainer_sif

TABLE = 4096
SLOT = 585


def good_image(folder: Path) -> Path:
    """Two partitions (a raw one, then a primary squashfs-typed one) and a JSON object."""
    return build(folder / "image.sif", {"deterministic": True}, [
        ObjectInput(DataType.PARTITION, b"\xfa\xce\xfe\xed",
                    partition=PartitionInfo(FsType.RAW, PartType.SYSTEM, "amd64")),
        ObjectInput(DataType.PARTITION, b"hsqs" + bytes(4092),
                    partition=PartitionInfo(FsType.SQUASHFS, PartType.PRIMARY_SYSTEM, "amd64")),
        ObjectInput(DataType.GENERIC_JSON, b"{}", name="meta.json")])


def patch(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def cut(path: Path, size: int) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(size)


def slot_field(slot: int, offset: int) -> int:
    return TABLE + slot * SLOT + offset


# name -> (how to damage a good image, words the one-line error must contain)
DAMAGES = {
    "empty-file": (lambda p: cut(p, 0), "fewer than the 128-byte"),
    "truncated-header": (lambda p: cut(p, 100), "fewer than the 128-byte"),
    "wrong-magic": (lambda p: patch(p, 32, b"NOT_MAGIC\0"), "no SIF_MAGIC"),
    "wrong-version": (lambda p: patch(p, 42, b"02\0"), "version '02'"),
    "table-past-end-of-file": (lambda p: cut(p, 5000), "descriptor table ends"),
    "huge-descriptor-count": (lambda p: patch(p, 88, struct.pack("<q", 1 << 40)),
                              "descriptor table ends"),
    "table-over-header": (lambda p: patch(p, 96, struct.pack("<q", 64)),
                          "invalid descriptor table"),
    "negative-data-size": (lambda p: patch(p, 120, struct.pack("<q", -1)),
                           "negative data offset or size"),
    "object-past-end-of-file": (lambda p: cut(p, p.stat().st_size - 1),
                                "past the end of the file"),
    "negative-offset": (lambda p: patch(p, slot_field(0, 17), struct.pack("<q", -4096)),
                        "negative offset"),
    "negative-size": (lambda p: patch(p, slot_field(2, 25), struct.pack("<q", -2)),
                      "negative offset or size"),
    "overlapping-objects": (lambda p: patch(p, slot_field(2, 17), struct.pack("<q", 36864)),
                            "objects 2 and 3 overlap"),
    "object-over-descriptor-table": (
        lambda p: patch(p, slot_field(0, 17), struct.pack("<q", TABLE)),
        "overlaps the header or descriptor table"),
    "duplicate-object-ids": (lambda p: patch(p, slot_field(2, 5), struct.pack("<I", 1)),
                             "two objects have the ID 1"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_image_is_refused_in_one_line_naming_the_file(tmp_path, damage):
    image = good_image(tmp_path)
    apply, words = DAMAGES[damage]
    apply(image)
    before = image.read_bytes()

    with pytest.raises(sif.SifError, match=words) as refusal:
        sif.load(image)
    assert str(image) in str(refusal.value)

    for command in (["list"], ["header"], ["info", "1"], ["dump", "1"]):
        assert_one_line_refusal(jupytainer_sif(*command, image, check=False), image, words)
    assert_one_line_refusal(jupytainer_sif("add", image, image, "--datatype", "7",
                                           check=False), image, words)
    assert image.read_bytes() == before


def assert_one_line_refusal(result, image: Path, words: str) -> None:
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("FATAL:") and str(image) in stderr and words in stderr, stderr
    assert "Traceback" not in stderr and result.stdout == b""


def test_unknown_filesystem_type_lists_but_is_refused_as_primary_partition(tmp_path):
    image = good_image(tmp_path)
    patch(image, slot_field(1, 201), struct.pack("<i", 9))

    listing = jupytainer_sif("list", image)
    assert "FS (Unknown/*System/amd64)" in listing.stdout.decode()
    with sif.load(image) as opened:
        assert opened.get(2).fstype == 9
        with pytest.raises(sif.SifError, match="unknown filesystem type 9") as refusal:
            opened.primary_partition()
    assert str(image) in str(refusal.value)


def test_image_without_primary_partition_says_so(tmp_path):
    image = build(tmp_path / "plain.sif", {}, [ObjectInput(DataType.GENERIC, b"x")])
    with sif.load(image) as opened, pytest.raises(
            sif.SifError, match="no primary system partition") as refusal:
        opened.primary_partition()
    assert str(image) in str(refusal.value)


def test_full_descriptor_table_refuses_another_object_and_changes_nothing(tmp_path):
    image = build(tmp_path / "small.sif", {"descriptors_total": 2}, [
        ObjectInput(DataType.GENERIC, b"one"), ObjectInput(DataType.GENERIC, b"two")])
    before = image.read_bytes()
    with sif.load(image, writable=True) as opened, pytest.raises(
            sif.SifError, match="all 2 descriptor slots are used"):
        opened.add_object(ObjectInput(DataType.GENERIC, b"three"))
    (tmp_path / "three").write_bytes(b"three")
    result = jupytainer_sif("add", image, tmp_path / "three", "--datatype", "7", check=False)
    assert_one_line_refusal(result, image, "descriptor slots are used")
    assert image.read_bytes() == before


@pytest.mark.parametrize("command, words", [
    (["info", "9"], "no object with ID 9"),
    (["dump", "0"], "invalid object ID '0'"),
    (["del", "x"], "invalid object ID 'x'"),
    (["setprim", "3"], "object 3 is not a partition"),
    (["setprim", "1"], "none"),
])
def test_impossible_object_requests_are_one_line_errors(tmp_path, command, words):
    image = good_image(tmp_path)
    if command == ["setprim", "1"]:
        patch(image, slot_field(0, 205), struct.pack("<i", PartType.DATA))
        words = "object 1 is not a system partition"
    before = image.read_bytes()
    result = jupytainer_sif(*command, image, check=False)
    assert result.returncode != 0 and len(result.stderr.splitlines()) == 1
    assert words in result.stderr.decode() and b"Traceback" not in result.stderr
    assert image.read_bytes() == before


def test_second_primary_partition_is_refused(tmp_path):
    image = good_image(tmp_path)
    with sif.load(image, writable=True) as opened, pytest.raises(
            sif.SifError, match="already has a primary system partition .object 2."):
        opened.add_object(ObjectInput(DataType.PARTITION, b"x", partition=PartitionInfo(
            FsType.SQUASHFS, PartType.PRIMARY_SYSTEM, "amd64")))


def test_missing_file_and_directory_are_one_line_errors(tmp_path):
    fifo = tmp_path / "fifo.sif"
    os.mkfifo(fifo)
    for target, words in [(tmp_path / "absent.sif", "No such file"),
                          (tmp_path, "not a regular file"), (fifo, "not a regular file")]:
        result = jupytainer_sif("list", target, check=False)
        assert_one_line_refusal(result, target, words)


def test_missing_input_file_is_named_in_the_error(tmp_path):
    image = good_image(tmp_path)
    before = image.read_bytes()
    result = jupytainer_sif("add", image, tmp_path / "absent.squashfs", "--datatype", "7",
                            check=False)
    assert_one_line_refusal(result, tmp_path / "absent.squashfs", "No such file")
    assert image.read_bytes() == before


def test_dump_into_a_closed_pipe_is_quiet(tmp_path):
    image = build(tmp_path / "big.sif", {}, [ObjectInput(DataType.GENERIC, bytes(4 << 20))])
    result = subprocess.run(["bash", "-o", "pipefail", "-c",
                             f"'{JUPYTAINER}' sif dump 1 '{image}' | head -c 10 >/dev/null"],
                            capture_output=True)
    assert result.returncode == 0 and result.stderr == b""


@pytest.mark.parametrize("group_id", [0, 0x10000000, -1])
def test_group_ids_that_the_format_cannot_store_are_refused(tmp_path, group_id):
    image = good_image(tmp_path)
    with sif.load(image, writable=True) as opened, pytest.raises(
            sif.SifError, match=f"invalid group ID {group_id}"):
        opened.add_object(ObjectInput(DataType.GENERIC, b"x", group_id=group_id))


def test_links_the_format_cannot_store_are_refused(tmp_path):
    image = good_image(tmp_path)
    with sif.load(image, writable=True) as opened, pytest.raises(
            sif.SifError, match="invalid link to ID 0"):
        opened.add_object(ObjectInput(DataType.GENERIC, b"x", link=sif.LinkTo(0)))


def test_read_only_image_refuses_edits(tmp_path):
    image = good_image(tmp_path)
    with sif.load(image) as opened, pytest.raises(sif.SifError, match="read-only"):
        opened.delete_object(1)
