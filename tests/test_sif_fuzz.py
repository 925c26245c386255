"""Property: whatever bytes a file holds, opening and using it raises nothing but SifError
(random files, random header fields, and random mutations of a good image)."""

import os
import struct
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupytainer.runtime import sif
from jupytainer.runtime.sif import DataType, FsType, ObjectInput, PartitionInfo, PartType, text
from sif_support import build

INT64 = st.integers(-2**63, 2**63 - 1)
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _good_image() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = build(os.path.join(folder, "good.sif"), {"descriptors_total": 4}, [
            ObjectInput(DataType.PARTITION, b"hsqs" + bytes(60), partition=PartitionInfo(
                FsType.SQUASHFS, PartType.PRIMARY_SYSTEM, "amd64")),
            ObjectInput(DataType.SIGNATURE, b"signature", group_id=None),
            ObjectInput(DataType.GENERIC_JSON, b"{}", name="data.json")])
        with open(path, "rb") as handle:
            return handle.read()


GOOD = _good_image()


def exercise(content: bytes) -> None:
    """Open content as a SIF and use every read and edit path; only SifError may escape."""
    with tempfile.NamedTemporaryFile(suffix=".sif") as handle:
        handle.write(content)
        handle.flush()
        try:
            with sif.load(handle.name, writable=True) as image:
                use(image)
        except sif.SifError as refusal:
            assert handle.name in str(refusal)


def use(image: sif.SifFile) -> None:
    text.header_text(image.header)
    text.list_text(image.objects)
    for descriptor in image.objects:
        text.info_text(descriptor)
        assert len(image.read_bytes(descriptor)) == descriptor.size
    try:
        image.primary_partition()
    except sif.SifError:
        pass
    image.add_object(ObjectInput(DataType.GENERIC, b"added"))
    image.delete_object(image.objects[-1].id)


@SETTINGS
@given(st.binary(max_size=40000))
def test_random_bytes_raise_only_sif_errors(content):
    exercise(content)


@SETTINGS
@given(st.lists(INT64, min_size=8, max_size=8), st.binary(min_size=16, max_size=16),
       st.binary(max_size=3000))
def test_random_header_fields_raise_only_sif_errors(numbers, arch_and_id, tail):
    header = GOOD[:45] + arch_and_id[:3] + GOOD[48:64] + struct.pack("<8q", *numbers)
    exercise(header + GOOD[128:] + tail)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=12),
       st.integers(0, len(GOOD)))
def test_mutated_good_image_raises_only_sif_errors(mutations, length):
    content = bytearray(GOOD)
    for offset, value in mutations:
        content[offset] = value
    exercise(bytes(content[:length]))


@SETTINGS
@given(st.integers(0, 2), st.sampled_from([0, 5, 9, 17, 25, 33, 41, 201, 205, 209]), INT64)
def test_random_descriptor_fields_raise_only_sif_errors(slot, field, value):
    content = bytearray(GOOD)
    start = 4096 + slot * 585 + field
    width = {0: 4, 5: 4, 9: 4, 201: 4, 205: 4, 209: 3}.get(field, 8)
    packed = value.to_bytes(8, "little", signed=True)[:width]
    content[start:start + width] = packed
    exercise(bytes(content))


@SETTINGS
@given(INT64, INT64, INT64)
def test_random_header_counters_raise_only_sif_errors(free, data_offset, data_size):
    content = bytearray(GOOD)
    content[80:88] = struct.pack("<q", free)
    content[112:128] = struct.pack("<qq", data_offset, data_size)
    exercise(bytes(content))
