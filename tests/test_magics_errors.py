"""Every way a magic can fail, in a real kernel: a one-line error naming the mistake and
the fix, with no traceback, and nothing left behind."""

import subprocess

import pytest
from magics_support import busybox, run_cells


def _one_line(cell, ename: str) -> str:
    """The cell's error message, after checking it is one line of the given kind."""
    assert cell.status == "error", cell.stdout + cell.stderr
    assert cell.error["ename"] == ename, cell.error
    assert "\n" not in cell.error["evalue"]
    if ename == "MagicError":
        assert cell.error["traceback"] == [f"MagicError: {cell.error['evalue']}"]
    return cell.error["evalue"]


@pytest.mark.slow
def test_usage_mistakes_say_how_the_magic_is_written(identity):
    cells = run_cells(
        identity, "%container", "%container frobnicate x.sif", "%container exec",
        "%container exec --cleanenv", "%container exec x.sif echo 'unbalanced",
        "%%apptainer\nBootstrap: scratch\n",
        "%%apptainer frobnicate\nBootstrap: scratch\n",
        "%%apptainer build\nBootstrap: scratch\n",
        "%%apptainer build --force\nBootstrap: scratch\n",
        "%%def\nBootstrap: scratch\n", "%%def --force tool\nBootstrap: scratch\n",
        "%container kernel", "%container shell x.sif")

    messages = [_one_line(cell, "UsageError") for cell in cells]
    assert "%container takes one of exec, run, test" in messages[0]
    assert "%container takes one of" in messages[1]
    assert "needs an image" in messages[2] and "needs an image" in messages[3]
    assert "cannot split" in messages[4]
    assert "%%apptainer takes one of build" in messages[5] + messages[6]
    assert "needs a target last" in messages[7] and "needs a target last" in messages[8]
    assert "%%def needs a name first" in messages[9] and "%%def needs" in messages[10]
    assert "%container kernel needs an image" in messages[11]
    assert "%%apptainer shell IMAGE" in messages[12]


@pytest.mark.slow
def test_runtime_failures_are_one_line_from_the_command(identity, images):
    missing, status, bad_flag, not_image, no_instance = run_cells(
        identity, "%container exec nothere.sif true", f"%container exec {images.sif} false",
        f"%container exec --no-such-flag {images.sif} true",
        f"%container kernel {images.not_sif} --name broken",
        "%container instance stop no-such-instance")

    assert "nothere.sif" in _one_line(missing, "MagicError")
    assert _one_line(status, "MagicError") == "exec exited with status 1"
    assert _one_line(bad_flag, "MagicError").startswith("jupytainer exec: unrecognized")
    assert "notes.txt" in _one_line(not_image, "MagicError")
    assert "no-such-instance" in _one_line(no_instance, "MagicError")
    assert "FATAL" not in "".join(cell.stderr for cell in (missing, not_image, no_instance))


@pytest.mark.slow
def test_a_broken_definition_is_named_as_the_cell(identity):
    [cell] = run_cells(identity, "%%apptainer build x.sif\nBootstrap: nonsense\n")

    message = _one_line(cell, "MagicError")
    assert "the cell" in message and "jupytainer-cell-" not in message
    assert not (identity.workdir / "x.sif").exists()


@pytest.mark.slow
def test_a_missing_files_input_fails_def_with_the_path(identity):
    [cell] = run_cells(identity, "%%def needs\n" + busybox("%files\n    absent.txt /x\n"))

    assert "absent.txt" in _one_line(cell, "MagicError")
    assert not (identity.workdir / "needs.sif").exists()
    assert not (identity.workdir / "needs.sif.build.json").exists()


@pytest.mark.slow
def test_an_interrupted_build_stops_its_child_and_says_so(identity):
    slow = "%%apptainer build slow.sif\n" + busybox(
        "%post\n    echo post-begins\n    sleep 300\n")

    interrupted, after = run_cells(identity, {"code": slow, "interrupt_on": "post-begins"},
                                   "print('still alive')")

    assert _one_line(interrupted, "MagicError") == "interrupted: stopped the build of slow.sif"
    assert after.stdout == "still alive\n"
    assert not (identity.workdir / "slow.sif").exists()
    leftovers = subprocess.run(["pgrep", "-f", "slow.sif"], capture_output=True, text=True)
    assert leftovers.stdout == ""
