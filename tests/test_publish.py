"""Publishing end to end, with real container kernels on images built by the builder: a
notebook run in a container kernel is pinned, bundled and reproduced from the bundle in a
fresh directory; a rebuilt image whose calibration module changes a result by 1% is
refused, or, when allowed, reported as exactly the cell it changes."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest
from conftest import JUPYTAINER
from kernel_images import no_ipykernel_image
from kernel_support import KernelSetup
from publish_support import ANALYSIS_CELLS, calibration_image, write_notebook

pytestmark = pytest.mark.slow
JUPYTER_EXECUTE = "/opt/jupytainer/venv/bin/jupyter-execute"


def owned_directory(identity, name: str):
    path = identity.workdir / name
    path.mkdir()
    return identity.make_owned(path)


def run_in_kernel(identity, setup: KernelSetup, notebook) -> None:
    """Execute the notebook in place in its container kernel, as `jupyter execute` does."""
    result = identity.run([JUPYTER_EXECUTE, "--inplace", str(notebook)],
                          env=setup.env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


def published_analysis(identity) -> tuple:
    """The analysis notebook run in a kernel on the 1.1 image, pinned from its kernelspec
    and published with its data file; (bundle, notebook)."""
    setup = KernelSetup(identity)
    installed = setup.install(calibration_image("1.1"), "analysis")
    assert installed.returncode == 0, installed.stderr
    project = owned_directory(identity, "project")
    (project / "run7.csv").write_text("time,value\n0,100.0\n")
    notebook = write_notebook(project / "analysis.ipynb",
                              ["print(open('run7.csv').read().splitlines()[1])",
                               *ANALYSIS_CELLS], kernel_name="analysis")
    for path in (project / "run7.csv", notebook):
        identity.make_owned(path)
    run_in_kernel(identity, setup, notebook)

    pinned = identity.jupytainer("pin", notebook, env=setup.env)
    assert pinned.returncode == 0, pinned.stderr
    published = identity.jupytainer("publish", notebook, "--include", "run7.csv",
                                    "-o", identity.workdir / "analysis.tar.zst", cwd=project)
    assert published.returncode == 0, published.stderr
    return identity.workdir / "analysis.tar.zst", notebook


def test_a_published_notebook_reproduces_from_its_bundle_in_a_fresh_directory(identity):
    bundle, notebook = published_analysis(identity)
    pin = json.loads(notebook.read_text())["metadata"]["jupytainer"]
    assert pin["labels"]["org.jupytainer.test.calibration"] == "1.1"
    assert "calibration.py" in pin["definition"]
    fresh = owned_directory(identity, "reviewer")

    result = identity.jupytainer("reproduce", bundle, "--output", "again.ipynb", cwd=fresh,
                                 timeout=600)

    assert result.returncode == 0, result.stderr
    assert "All outputs match: 5 code cell(s) reproduced." in result.stdout
    again = json.loads((fresh / "again.ipynb").read_text())
    assert "".join(again["cells"][0]["outputs"][0]["text"]) == "0,100.0\n"
    assert "".join(again["cells"][3]["outputs"][0]["text"]) == "100.0\n"


def test_a_changed_image_is_refused_or_reported_as_exactly_the_cells_it_changes(identity):
    bundle, notebook = published_analysis(identity)
    newer = identity.workdir / "analysis-1.2.sif"
    shutil.copyfile(calibration_image("1.2"), newer)
    identity.make_owned(newer)

    refused = identity.jupytainer("reproduce", bundle, "--image", newer, timeout=600)
    allowed = identity.jupytainer("reproduce", bundle, "--image", newer,
                                  "--allow-different-image", timeout=600)

    assert refused.returncode == 255
    fatal = [line for line in refused.stderr.splitlines() if line.startswith("FATAL:")]
    assert len(fatal) == 1 and "--allow-different-image" in fatal[0]
    assert allowed.returncode == 1, allowed.stderr
    assert "1 of 5 code cell(s) changed: cell(s) 4." in allowed.stdout
    assert "-100.0" in allowed.stdout and "+101.0" in allowed.stdout


def test_a_notebook_reproduces_in_place_from_its_pin(identity):
    setup = KernelSetup(identity)
    image = calibration_image("1.1")
    notebook = write_notebook(identity.workdir / "plain.ipynb", ANALYSIS_CELLS)
    identity.make_owned(notebook)
    assert identity.jupytainer("pin", notebook, image).returncode == 0

    first = identity.jupytainer("reproduce", notebook, "--output", "ran.ipynb", timeout=600)
    second = identity.jupytainer("reproduce", "ran.ipynb", timeout=600)

    assert first.returncode == 1, first.stderr
    assert "4 of 4 code cell(s) changed" not in first.stdout  # cell 2 prints nothing
    assert second.returncode == 0, second.stderr + second.stdout
    assert setup.leftovers() == []


def test_a_kernel_that_cannot_start_or_a_cell_that_hangs_is_one_line(identity):
    setup = KernelSetup(identity)
    notebook = write_notebook(identity.workdir / "slow.ipynb", ["import time; time.sleep(60)"])
    identity.make_owned(notebook)
    assert identity.jupytainer("pin", notebook, calibration_image("1.1")).returncode == 0

    no_kernel = identity.jupytainer("reproduce", notebook, "--image", no_ipykernel_image(),
                                    "--allow-different-image", timeout=600)
    hangs = identity.jupytainer("reproduce", notebook, "--timeout", "3", timeout=600)

    for result, words in ((no_kernel, "ipykernel"), (hangs, "longer than 3 seconds")):
        fatal = [line for line in result.stderr.splitlines() if line.startswith("FATAL:")]
        assert result.returncode == 255 and "Traceback" not in result.stderr, result.stderr
        assert len(fatal) == 1 and words in fatal[0], result.stderr
    assert setup.leftovers() == []


def test_an_interrupted_reproduction_stops_and_leaves_no_kernel(identity):
    setup = KernelSetup(identity)
    started = identity.workdir / "started"
    notebook = write_notebook(identity.workdir / "long.ipynb", [
        f"open({str(started)!r}, 'w').close()\nimport time\ntime.sleep(120)"])
    identity.make_owned(notebook)
    assert identity.jupytainer("pin", notebook, calibration_image("1.1")).returncode == 0
    command = identity.command([str(JUPYTAINER), "reproduce", str(notebook)])
    process = subprocess.Popen(command, env=identity.environment(), cwd=identity.workdir,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not started.exists() and process.poll() is None:
        time.sleep(0.1)

    os.kill(_jupytainer_pid(process.pid), signal.SIGINT)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "FATAL:   interrupted"
    assert setup.leftovers() == []


def _jupytainer_pid(pid: int) -> int:
    """The jupytainer process itself: runuser, as the user's tests start it, does not pass
    SIGINT on, as a terminal would deliver it to the whole foreground group."""
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        program = handle.read().split(b"\0")[0]
    if os.path.basename(program) != b"runuser":
        return pid
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return int(handle.read().split()[0])


def test_the_readme_commands_reproduce_a_bundle_without_its_image(identity):
    image = calibration_image("1.1")
    notebook = write_notebook(identity.workdir / "light.ipynb", ANALYSIS_CELLS)
    identity.make_owned(notebook)
    assert identity.jupytainer("pin", notebook, image).returncode == 0
    assert identity.jupytainer("reproduce", notebook, "--output", notebook).returncode == 1
    published = identity.jupytainer("publish", notebook, "--no-image", "-o",
                                    identity.workdir / "light.tar.zst")
    assert published.returncode == 0, published.stderr
    reviewer = owned_directory(identity, "reviewer")
    shutil.copyfile(identity.workdir / "light.tar.zst", reviewer / "light.tar.zst")
    identity.make_owned(reviewer / "light.tar.zst")
    readme = subprocess.run(["tar", "--zstd", "-xOf", reviewer / "light.tar.zst",
                             "light/README.md"], capture_output=True, text=True).stdout
    commands = [line.strip() for line in readme.splitlines() if line.startswith("    ")]

    results = [identity.run(["sh", "-c", command.replace("jupytainer", str(JUPYTAINER), 1)
                             if command.startswith("jupytainer") else command],
                            cwd=reviewer, timeout=900) for command in commands]

    assert [result.returncode for result in results] == [0, 0, 0], results[-1].stderr
    assert "All outputs match: 4 code cell(s) reproduced." in results[-1].stdout


def test_an_unpacked_bundle_reproduces_from_its_notebook(identity):
    bundle, _ = published_analysis(identity)
    reviewer = owned_directory(identity, "unpacked")
    assert identity.run(["tar", "--zstd", "-xf", bundle], cwd=reviewer).returncode == 0

    result = identity.jupytainer("reproduce", "analysis/analysis.ipynb", cwd=reviewer,
                                 timeout=600)

    assert result.returncode == 0, result.stderr
    assert "All outputs match: 5 code cell(s) reproduced." in result.stdout
