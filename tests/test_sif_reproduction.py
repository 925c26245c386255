"""From the reference inputs, the writer reproduces every unsigned v2 reference image byte
for byte (deterministic mode: nil ID, the Go zero time, default layout and alignment)."""

import pytest

from sif_support import build, deterministic_images
from conftest import SHARED_REFERENCE

CASES = sorted(deterministic_images(SHARED_REFERENCE / "sif-inputs"))


@pytest.mark.parametrize("name", CASES)
def test_writer_reproduces_reference_image_byte_for_byte(name, shared_reference, tmp_path):
    options, objects = deterministic_images(shared_reference / "sif-inputs")[name]
    written = build(tmp_path / name, options, objects)
    expected = (shared_reference / "sif-images" / name).read_bytes()
    assert written.read_bytes() == expected


def test_reproduction_covers_the_nine_unsigned_v2_images():
    assert len(CASES) == 9
