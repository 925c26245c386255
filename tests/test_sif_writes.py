"""Writing: where objects go (slots, IDs, groups, links, alignment, DataSize), edits
(delete, compact, primary partition), what round-trips untouched, that a failed write
leaves nothing under the final name, and that reading a huge image reads only its tables."""

import hashlib
import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from jupytainer.runtime import sif
from jupytainer.runtime.sif import (GO_ZERO_TIME, DataType, FsType, LinkTo, ObjectInput,
                                    PartitionInfo, PartType)
from sif_support import build, jupytainer_sif

SQUASHFS_AMD64 = PartitionInfo(FsType.SQUASHFS, PartType.PRIMARY_SYSTEM, "amd64")
SYSTEM_ARM64 = PartitionInfo(FsType.EXT3, PartType.SYSTEM, "arm64")


class FailingReader(io.RawIOBase):
    """A source that gives a few chunks, then fails as a broken disk or pipe would."""

    def __init__(self, good_chunks: int) -> None:
        self.left = good_chunks

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left == 0:
            raise OSError(5, "Input/output error")
        self.left -= 1
        return b"x" * 65536


def test_objects_take_the_first_free_slot_and_its_id(tmp_path):
    image = build(tmp_path / "a.sif", {}, [ObjectInput(DataType.GENERIC, bytes([n]))
                                          for n in range(3)])
    with sif.load(image, writable=True) as opened:
        opened.delete_object(2)
        added = opened.add_object(ObjectInput(DataType.DEFFILE, b"Bootstrap: scratch\n"))
        assert (added.id, added.slot) == (2, 1)
        assert [d.id for d in opened.objects] == [1, 2, 3]
        assert opened.header.descriptors_free == 48 - 3


def test_groups_links_and_names_are_stored_as_given(tmp_path):
    image = build(tmp_path / "a.sif", {}, [
        ObjectInput(DataType.GENERIC, b"a", name="first"),
        ObjectInput(DataType.GENERIC, b"b", group_id=None, link=LinkTo(1)),
        ObjectInput(DataType.SIGNATURE, b"c", group_id=None, link=LinkTo(1, group=True)),
        ObjectInput(DataType.GENERIC, b"d", group_id=5)])
    with sif.load(image) as opened:
        first, linked, signature, grouped = opened.objects
        assert (first.group_id, first.name, first.raw_group_id) == (1, "first", 0xF0000001)
        assert (linked.group_id, linked.linked_id, linked.link_is_group) == (0, 1, False)
        assert (signature.raw_linked_id, signature.link_is_group) == (0xF0000001, True)
        assert grouped.group_id == 5
        assert opened.find(group_id=5) == grouped and opened.find(name="first") == first


@pytest.mark.parametrize("data_type, alignment, expected_offset", [
    (DataType.PARTITION, None, 32768),
    (DataType.GENERIC, None, 32177),
    (DataType.GENERIC, 8, 32184),
    (DataType.PARTITION, 0, 32177),
])
def test_partitions_align_to_4096_and_other_objects_not_at_all(
        tmp_path, data_type, alignment, expected_offset):
    image = build(tmp_path / "a.sif", {}, [ObjectInput(DataType.GENERIC, b"x")])
    partition = SYSTEM_ARM64 if data_type == DataType.PARTITION else None
    with sif.load(image, writable=True) as opened:
        added = opened.add_object(ObjectInput(data_type, b"data", alignment=alignment,
                                              partition=partition))
        assert added.offset == expected_offset
        assert added.size_with_padding == expected_offset - 32177 + 4
        assert opened.header.data_size == added.end - opened.header.data_offset
    assert image.stat().st_size == expected_offset + 4
    assert image.read_bytes()[32177:expected_offset] == bytes(expected_offset - 32177)


def test_streamed_input_is_copied_in_chunks_with_its_exact_bytes(tmp_path):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    source = tmp_path / "rootfs.squashfs"
    source.write_bytes(payload)
    with open(source, "rb") as stream:
        image = build(tmp_path / "a.sif", {}, [
            ObjectInput(DataType.PARTITION, stream, partition=SQUASHFS_AMD64)])
    with sif.load(image) as opened, opened.open_object(opened.primary_partition()) as data:
        assert data.read() == payload


def test_a_pipe_is_streamed_to_its_end(tmp_path):
    payload = os.urandom(2 * 1024 * 1024 + 5)
    source = tmp_path / "payload"
    source.write_bytes(payload)
    with subprocess.Popen(["cat", source], stdout=subprocess.PIPE) as producer:
        image = build(tmp_path / "a.sif", {}, [
            ObjectInput(DataType.GENERIC, producer.stdout),
            ObjectInput(DataType.OCI_BLOB, source)])
    with sif.load(image) as opened:
        assert opened.read_bytes(opened.get(1)) == payload
        assert opened.get(2).digest == f"sha256:{hashlib.sha256(payload).hexdigest()}"


def test_primary_partition_sets_the_header_arch_and_moves_with_setprim(tmp_path):
    image = build(tmp_path / "a.sif", {}, [
        ObjectInput(DataType.PARTITION, b"a", partition=SQUASHFS_AMD64),
        ObjectInput(DataType.PARTITION, b"b", partition=SYSTEM_ARM64)])
    with sif.load(image, writable=True) as opened:
        assert opened.header.arch == "amd64"
        opened.set_primary_partition(2)
        assert opened.get(1).parttype == PartType.SYSTEM
        assert opened.primary_partition().id == 2 and opened.header.arch == "arm64"
        opened.delete_object(2)
        assert opened.header.arch == "unknown"


def test_delete_with_zero_overwrites_the_data_and_keeps_the_file_size(tmp_path):
    image = build(tmp_path / "a.sif", {}, [ObjectInput(DataType.GENERIC, b"secret"),
                                          ObjectInput(DataType.GENERIC, b"keep")])
    size = image.stat().st_size
    with sif.load(image, writable=True) as opened:
        opened.delete_object(1, zero=True)
    assert image.read_bytes()[32176:] == bytes(6) + b"keep" and image.stat().st_size == size


def test_delete_with_compact_truncates_the_last_object_and_its_padding(tmp_path):
    image = build(tmp_path / "a.sif", {}, [ObjectInput(DataType.GENERIC, b"keep"),
                                          ObjectInput(DataType.PARTITION, b"part",
                                                      partition=SYSTEM_ARM64)])
    with sif.load(image, writable=True) as opened:
        with pytest.raises(sif.SifError, match="object 1 is not the last one"):
            opened.delete_object(1, compact=True)
        opened.delete_object(2, compact=True)
        assert (opened.header.data_size, image.stat().st_size) == (4, 32180)
        opened.delete_object(1, compact=True)
        assert (opened.header.data_size, image.stat().st_size) == (0, 32176)


def test_edits_of_a_deterministic_image_keep_it_deterministic(tmp_path):
    image = build(tmp_path / "a.sif", {"deterministic": True}, [])
    with sif.load(image, writable=True) as opened:
        added = opened.add_object(ObjectInput(DataType.GENERIC, b"x"))
        assert added.created_at == added.modified_at == GO_ZERO_TIME
        assert opened.header.modified_at == GO_ZERO_TIME


def test_edits_of_a_normal_image_record_the_time(tmp_path):
    image = build(tmp_path / "a.sif", {"created_at": 1000}, [
        ObjectInput(DataType.GENERIC, b"x")])
    with sif.load(image, writable=True) as opened:
        assert opened.get(1).created_at == 1000
        added = opened.add_object(ObjectInput(DataType.GENERIC, b"y"))
        assert added.created_at > 1000 and opened.header.modified_at == added.created_at
        assert opened.header.created_at == 1000


def test_unknown_codes_round_trip_untouched_through_edits(tmp_path):
    image = build(tmp_path / "a.sif", {}, [
        ObjectInput(0x4999, b"future", extra=b"\x07" * 384),
        ObjectInput(DataType.PARTITION, b"p", partition=SYSTEM_ARM64)])
    with open(image, "r+b") as handle:
        handle.seek(4096 + 585 + 201)
        handle.write(struct.pack("<i", 9))
        handle.seek(4096 + 585 + 209)
        handle.write(b"99\0")
    before = image.read_bytes()[4096:4096 + 2 * 585]
    with sif.load(image, writable=True) as opened:
        assert opened.get(1).data_type == 0x4999 and opened.get(2).arch == "unknown"
        opened.add_object(ObjectInput(DataType.GENERIC, b"z"))
        opened.delete_object(3)
    assert image.read_bytes()[4096:4096 + 2 * 585] == before


def test_failed_build_leaves_no_file_under_the_final_name(tmp_path):
    final = tmp_path / "image.sif"

    def build_then_fail(image: sif.SifFile) -> None:
        image.add_object(ObjectInput(DataType.GENERIC, b"x"))
        raise RuntimeError("builder crashed")

    with pytest.raises(RuntimeError):
        sif.write_atomically(final, build_then_fail)
    assert list(tmp_path.iterdir()) == []


def test_full_table_during_a_build_leaves_no_file_and_keeps_the_old_one(tmp_path):
    final = tmp_path / "image.sif"
    final.write_bytes(b"the previous image")

    def add_three(image: sif.SifFile) -> None:
        for data in (b"1", b"2", b"3"):
            image.add_object(ObjectInput(DataType.GENERIC, data))

    with pytest.raises(sif.SifError, match="descriptor slots are used"):
        sif.write_atomically(final, add_three, descriptors_total=2)
    assert list(tmp_path.iterdir()) == [final]
    assert final.read_bytes() == b"the previous image"


def test_source_failing_mid_copy_leaves_the_image_as_it_was(tmp_path):
    image = build(tmp_path / "a.sif", {}, [ObjectInput(DataType.GENERIC, b"x")])
    before = image.read_bytes()
    with sif.load(image, writable=True) as opened:
        with pytest.raises(sif.SifError, match="Input/output error"):
            opened.add_object(ObjectInput(DataType.PARTITION, FailingReader(5),
                                          partition=SYSTEM_ARM64))
        assert opened.header.descriptors_free == 47
    assert image.read_bytes() == before


def test_new_into_a_missing_directory_is_one_line_and_creates_nothing(tmp_path):
    result = jupytainer_sif("new", tmp_path / "missing" / "a.sif", check=False)
    assert result.returncode != 0 and len(result.stderr.splitlines()) == 1
    assert b"missing/" in result.stderr and not (tmp_path / "missing").exists()


def test_partition_with_unknown_arch_is_refused(tmp_path):
    with pytest.raises(sif.SifError, match="unknown architecture 'vax'"):
        build(tmp_path / "a.sif", {}, [ObjectInput(
            DataType.PARTITION, b"x", partition=PartitionInfo(FsType.RAW, PartType.DATA,
                                                              "vax"))])
    assert not (tmp_path / "a.sif").exists()


def bytes_read_by(action) -> int:
    """Bytes this process read from files while running action (Linux /proc accounting)."""
    def read_count() -> int:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
        raise AssertionError("no rchar in /proc/self/io")
    before = read_count()
    action()
    return read_count() - before


def sparse_image(path: Path, partition_size: int) -> Path:
    """An image whose primary partition has partition_size bytes, nearly all a sparse hole."""
    build(path, {}, [ObjectInput(DataType.PARTITION, b"hsqs", partition=SQUASHFS_AMD64)])
    with open(path, "r+b") as handle:
        handle.seek(4096 + 25)
        handle.write(struct.pack("<qq", partition_size, partition_size + 32768 - 32176))
        handle.seek(120)
        handle.write(struct.pack("<q", 32768 - 32176 + partition_size))
        handle.truncate(32768 + partition_size)
    return path


def test_listing_a_10_gb_image_reads_no_more_than_listing_a_small_one(tmp_path):
    huge = sparse_image(tmp_path / "huge.sif", 10 * 1024**3)
    small = sparse_image(tmp_path / "small.sif", 4096)

    def list_objects(path: Path) -> None:
        with sif.load(path) as opened:
            assert opened.primary_partition().size in (4096, 10 * 1024**3)

    list_objects(small)
    huge_cost = bytes_read_by(lambda: list_objects(huge))
    small_cost = bytes_read_by(lambda: list_objects(small))
    assert huge_cost == small_cost
    assert huge_cost < 64 * 1024
    assert huge.stat().st_blocks * 512 < 1024**2


def test_opening_an_image_to_run_it_imports_none_of_the_writing_machinery(tmp_path):
    image = build(tmp_path / "a.sif", {}, [
        ObjectInput(DataType.PARTITION, b"hsqs", partition=SQUASHFS_AMD64)])
    probe = ("import sys; from jupytainer.runtime import sif; "
             f"sif.load({str(image)!r}).primary_partition(); "
             "print(sorted({'dataclasses', 'hashlib', 'secrets', 'inspect'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_errors_during_a_build_name_the_final_file_not_the_temporary_one(tmp_path):
    final = tmp_path / "image.sif"

    def add_a_bad_partition(image: sif.SifFile) -> None:
        image.add_object(ObjectInput(DataType.PARTITION, b"x"))

    with pytest.raises(sif.SifError) as refusal:
        sif.write_atomically(final, add_a_bad_partition)
    assert f"cannot add to {final}:" in str(refusal.value)
    assert list(tmp_path.iterdir()) == []
