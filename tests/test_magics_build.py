"""`%%apptainer build` and `%%def` run in a real kernel: the build log reaches the notebook
while the build runs, a failure is one line, and `%%def` rebuilds only when something that
decides the image changed."""

import os
from datetime import datetime

import pytest
from magics_support import busybox, run_cells

# %post prints, then waits for the test to see that line in the cell's output.
WAITING_POST = busybox("%post\n    echo post-begins\n"
                       "    while [ ! -e /mnt/go ]; do sleep 0.1; done\n    echo post-ends\n")


def _first(cell, text: str) -> dict:
    return next(m for m in cell.messages if text in m["content"].get("text", ""))


@pytest.mark.slow
def test_a_build_cell_streams_its_log_before_the_build_ends(identity):
    signal = identity.make_owned(_directory(identity.workdir / "signal"))
    build = f"%%apptainer build --bind {signal}:/mnt streamed.sif\n{WAITING_POST}"

    [cell] = run_cells(identity, {"code": build, "touch_on": ["post-begins", f"{signal}/go"]})

    assert cell.status == "ok", cell.error
    begins, ends = _first(cell, "post-begins"), _first(cell, "post-ends")
    final = _first(cell, "Built streamed.sif")
    assert begins is not ends and ends is not final
    dates = [datetime.fromisoformat(m["date"]) for m in (begins, ends, final)]
    assert dates == sorted(dates)
    assert dates[-1] <= datetime.fromisoformat(cell.reply["date"])
    assert "INFO:    Starting build" in cell.stderr
    assert cell.stdout.rstrip().splitlines()[-1].startswith("Built streamed.sif: ")
    assert " MiB in " in cell.stdout or " KiB in " in cell.stdout
    assert (identity.workdir / "streamed.sif").is_file()


@pytest.mark.slow
def test_a_failing_build_raises_one_line_naming_the_failure(identity):
    [cell] = run_cells(identity, "%%apptainer build broken.sif\n"
                       + busybox("%post\n    echo about-to-fail\n    exit 3\n"))

    assert cell.status == "error"
    assert cell.error["ename"] == "MagicError"
    assert "\n" not in cell.error["evalue"] and "%post" in cell.error["evalue"]
    assert cell.error["traceback"] == [f"MagicError: {cell.error['evalue']}"]
    assert "about-to-fail" in cell.stderr + cell.stdout
    assert "FATAL" not in cell.stderr
    assert not (identity.workdir / "broken.sif").exists()


@pytest.mark.slow
def test_a_build_cell_can_make_a_sandbox(identity):
    [cell] = run_cells(identity, "%%apptainer build --sandbox tree\n" + busybox())

    assert cell.status == "ok", cell.error
    assert "Built tree: a sandbox directory in " in cell.stdout
    assert (identity.workdir / "tree" / "bin" / "busybox").is_file()


def _directory(path):
    path.mkdir()
    return path


def _def_cell(body: str = "", flags: str = "") -> str:
    return (f"%%def tool {flags}\n"
            + busybox(f"%files\n    data.txt /data.txt\n\n%post\n    cat /data.txt\n{body}"))


@pytest.mark.slow
def test_def_reuses_an_unchanged_image_and_rebuilds_a_changed_one(identity):
    data = identity.workdir / "data.txt"
    data.write_text("first\n")
    identity.make_owned(data)
    image = identity.workdir / "tool.sif"

    first, again = run_cells(identity, _def_cell(), _def_cell())
    built = image.stat().st_mtime_ns
    data.write_text("second\n")
    changed_input, changed_cell, forced, same = run_cells(
        identity, _def_cell(), _def_cell("    echo new-step\n"),
        _def_cell("    echo new-step\n", "--force"), _def_cell("    echo new-step\n"))

    assert (identity.workdir / "tool.def").read_text() == _def_cell("    echo new-step\n") \
        .split("\n", 1)[1]
    assert first.status == "ok" and "Built tool.sif" in first.stdout, first.error
    assert "up to date" in again.stdout and "Built" not in again.stdout
    assert "second" in changed_input.stdout + changed_input.stderr
    assert "Built tool.sif" in changed_input.stdout
    assert "new-step" in changed_cell.stdout + changed_cell.stderr
    assert "Built tool.sif" in forced.stdout
    assert "up to date" in same.stdout
    assert image.stat().st_mtime_ns != built
    assert (identity.workdir / "tool.sif.build.json").is_file()


@pytest.mark.slow
def test_def_passes_build_args_expanded_from_python_variables(identity):
    cell = "%%def greeting --build-arg word=$word\n" + busybox(
        "%post\n    echo '{{ word }}' > /word\n\n%runscript\n    cat /word\n")

    _, built, ran = run_cells(identity, "word = 'bonjour'", cell,
                              "%container run greeting.sif")

    assert built.status == "ok", built.error
    assert ran.stdout == "bonjour\n"


@pytest.mark.slow
def test_a_def_that_fails_is_built_again_next_time(identity):
    failing = "%%def flaky\n" + busybox("%post\n    test -e /nothing-here\n")

    first, second = run_cells(identity, failing, failing)

    assert first.status == second.status == "error"
    assert "up to date" not in second.stdout
    assert not os.path.exists(identity.workdir / "flaky.sif.build.json")
