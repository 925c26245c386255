"""The siftool-style text pieces: sizes, times and aligned rows as the reference prints them."""

import pytest

from jupytainer.runtime.sif import GO_ZERO_TIME, text


@pytest.mark.parametrize("size, shown", [
    (0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "2 KiB"), (28080, "27 KiB"),
    (1048575, "1024 KiB"), (1048576, "1 MiB"), (10 * 1024**3, "10 GiB"),
    (2**63 - 1, "8 EiB"), (-2048, "-2 KiB"),
])
def test_sizes_are_rounded_to_the_largest_unit_like_siftool(size, shown):
    assert text.readable_size(size) == shown


@pytest.mark.parametrize("seconds, shown", [
    (1627931376, "2021-08-02 19:09:36 +0000 UTC"),
    (0, "1970-01-01 00:00:00 +0000 UTC"),
    (GO_ZERO_TIME + 1, "0001-01-01 00:00:01 +0000 UTC"),
    (2**62, f"@{2**62}"),
])
def test_times_are_printed_as_go_prints_utc_times(seconds, shown):
    assert text.timestamp(seconds) == shown
