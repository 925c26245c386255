"""`%container` and the stdin verbs of `%%apptainer`, run in a real kernel: output streamed
or captured, Python values expanded into the line, instances, kernelspecs, completion and
help."""

import json

import pytest
from instance_support import config_env
from magics_support import run_cells


@pytest.mark.slow
def test_exec_captures_its_output_lines_when_assigned(identity, images):
    assigned, printed = run_cells(
        identity, f"lines = %container exec {images.sif} sh -c 'echo one; echo two'",
        "print(type(lines).__name__, lines.n, lines[1])")

    assert assigned.status == "ok", assigned.error
    assert assigned.stdout == ""
    assert printed.stdout == "SList one\ntwo two\n"


@pytest.mark.slow
def test_exec_streams_each_line_when_the_command_prints_it(identity, images):
    go = identity.workdir / "go"
    waits = f"'echo early; while [ ! -e {go} ]; do sleep 0.1; done; echo late'"

    [cell] = run_cells(identity, {"code": f"%container exec {images.sif} sh -c {waits}",
                                  "touch_on": ["early", str(go)]})

    texts = [m["content"]["text"] for m in cell.messages if m["msg_type"] == "stream"]
    assert texts == ["early\n", "late\n"]


@pytest.mark.slow
def test_exec_expands_python_variables_and_expressions(identity, images):
    _, cell = run_cells(identity, f"image = {str(images.sif)!r}\nword = 'hello there'",
                        "%container exec $image echo $word {6 * 7}")

    assert cell.status == "ok", cell.error
    assert cell.stdout == "hello there 42\n"
    assert cell.result == ""


@pytest.mark.slow
def test_run_test_inspect_and_run_help_stream_what_the_command_prints(identity, images):
    run, inspect, run_help = run_cells(
        identity, f"%container run {images.sif} a b", f"%container inspect --runscript "
        f"{images.sif}", f"%container run-help {images.sif}")

    assert run.stdout == "runscript args: a b\n"
    assert "runscript args" in inspect.stdout
    assert run_help.status == "ok", run_help.error


@pytest.mark.slow
def test_a_cell_is_the_standard_input_of_exec_and_a_script_for_shell(identity, images):
    exec_cell, shell_cell = run_cells(
        identity, f"%%apptainer exec {images.sif} tr a-z A-Z\nshout\n",
        f"%%apptainer shell {images.sif}\necho from-shell\necho $IMAGE_VAR\n")

    assert exec_cell.stdout == "SHOUT\n", exec_cell.error
    assert shell_cell.stdout == "from-shell\nfrom-image\n", shell_cell.error


@pytest.mark.slow
def test_an_instance_is_started_listed_and_stopped(identity, service_image):
    env = config_env(identity)

    started, listed, stopped, after = run_cells(
        identity, f"%container instance start {service_image} magicsvc",
        "running = %container instance list --json\nprint(running.n)",
        "%container instance stop magicsvc",
        "left = %container instance list --json\nprint(left.n)", env=env)

    assert started.status == "ok", started.error
    assert [i["instance"] for i in json.loads(listed.stdout)["instances"]] == ["magicsvc"]
    assert stopped.status == "ok", stopped.error
    assert json.loads(after.stdout)["instances"] == []


@pytest.mark.slow
def test_kernel_installs_a_kernelspec_for_an_image(identity, images):
    data = identity.workdir / "jupyter-data"

    [cell] = run_cells(identity, f"%container kernel {images.sif} --name magic-kernel "
                       "--display-name 'From a magic' --cleanenv",
                       env={"JUPYTER_DATA_DIR": str(data)})

    assert cell.status == "ok", cell.error
    spec = json.loads((data / "kernels" / "magic-kernel" / "kernel.json").read_text())
    assert spec["display_name"] == "From a magic"
    assert str(images.sif) in json.dumps(spec)
    assert "Installed kernel magic-kernel" in cell.stderr


def test_completion_offers_verbs_flags_and_image_paths(identity, images):
    image_dir = str(images.sif.parent)
    (identity.workdir / "analysis.def").write_text("Bootstrap: scratch\n")
    verbs, flags, paths, cell_verbs, instance, def_flags, def_names = run_cells(
        identity, {"complete": "%container ex"}, {"complete": "%container exec --clean"},
        {"complete": f"%container exec {image_dir}/busy"}, {"complete": "%%apptainer b"},
        {"complete": "%container instance st"}, {"complete": "%%def tool --build-a"},
        {"complete": "%%def ana"})

    assert "exec" in verbs
    assert "--cleanenv" in flags
    assert f"{image_dir}/busybox.sif" in paths and f"{image_dir}/busybox-sandbox/" in paths
    assert f"{image_dir}/notes.txt" not in paths
    assert "build" in cell_verbs
    assert {"start", "stop"} <= set(instance)
    assert {"--build-arg", "--build-arg-file"} <= set(def_flags)
    assert def_names == ["analysis"]


def test_help_lists_the_verbs(identity):
    [cell] = run_cells(identity, "%container?")

    [page] = cell.reply["content"]["payload"]
    text = page["data"]["text/plain"]
    for verb in ("exec", "run", "test", "inspect", "run-help", "instance start|stop|list",
                 "kernel IMAGE"):
        assert verb in text
