"""Which lines the capture transform marks: assignments of %container, nothing else."""

from jupytainer.kernel.magics.assignment import mark_captures


def test_assignments_of_container_are_marked_for_capture():
    lines = ["x = %container exec a.sif ls\n", "  a, b = %container exec a.sif ls\n",
             "%container exec a.sif ls\n", "y = %containers exec\n", "z = 1\n"]

    assert mark_captures(lines) == [
        "x = %container --capture exec a.sif ls\n",
        "  a, b = %container --capture exec a.sif ls\n",
        "%container exec a.sif ls\n", "y = %containers exec\n", "z = 1\n"]


def test_a_cell_magic_body_is_left_as_written():
    lines = ["%%bash\n", "x = %container exec a.sif ls\n"]

    assert mark_captures(lines) == lines
