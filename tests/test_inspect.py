"""`jupytainer inspect` and `jupytainer run-help`: what they print for real images - the
Apptainer-built busybox SIF, and a sandbox and SIFs with and without inspect-metadata.json
made here."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import JUPYTAINER
from image_support import busybox_root, sif_from_root

BUSYBOX_LABELS = """\
org.label-schema.build-arch: amd64
org.label-schema.build-date: Monday_2_August_2021_14:9:36_CDT
org.label-schema.schema-version: 1.0
org.label-schema.usage.singularity.deffile.bootstrap: docker
org.label-schema.usage.singularity.deffile.from: busybox:1.33.1
org.label-schema.usage.singularity.version: 3.8.1
"""
NO_HELP = "No help sections were defined for this image\n"

DEFFILE = "Bootstrap: busybox\n%help\n  Says hello.\n"
LABELS = {"b.second": "2", "a.first": "one & <two>"}
FILES = {
    "/.singularity.d/runscript": "#!/bin/sh\necho hello\n",
    "/.singularity.d/startscript": "#!/bin/sh\necho started\n",
    "/.singularity.d/test": "#!/bin/sh\ntrue\n",
    "/.singularity.d/runscript.help": "Says hello.\n",
    "/.singularity.d/Singularity": DEFFILE,
    "/scif/apps/tool/scif/runscript": "#!/bin/sh\necho tool\n",
    "/scif/apps/tool/scif/runscript.help": "The tool.\n",
    "/scif/apps/tool/scif/labels.json": '{"tool.label": "yes"}',
    "/scif/apps/tool/scif/env/90-environment.sh": "export TOOL=1\n",
    "/scif/apps/other/scif/test": "#!/bin/sh\ntrue\n",
}
ENV_SCRIPTS = {
    "01-base.sh": "#!/bin/sh\n",
    "10-docker2singularity.sh": '#!/bin/sh\nexport PATH="/usr/bin"\n',
    "90-environment.sh": "#!/bin/sh\nexport GREETING=hello\n",
    "91-environment.sh": "export LATE=1\n",
}


def inspect(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTAINER), "inspect", *map(str, args)], capture_output=True,
                          text=True, timeout=60)


def run_help(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTAINER), "run-help", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def busybox_sif(shared_reference) -> Path:
    return shared_reference / "sif-images" / "busybox_amd64.sif"


@pytest.fixture
def sandbox(tmp_path) -> Path:
    return busybox_root(tmp_path / "sandbox", env=ENV_SCRIPTS, files=FILES, labels=LABELS)


@pytest.fixture
def plain_sif(sandbox, tmp_path) -> Path:
    """A SIF holding the sandbox, its definition file object, and no inspect-metadata.json."""
    return sif_from_root(sandbox, tmp_path / "plain.sif", deffile=DEFFILE)


@pytest.fixture(params=["sandbox", "plain SIF"])
def made_image(request, sandbox, plain_sif) -> Path:
    return sandbox if request.param == "sandbox" else plain_sif


def test_labels_are_the_default_from_inspect_metadata(busybox_sif):
    result = inspect(busybox_sif)

    assert (result.returncode, result.stdout, result.stderr) == (0, BUSYBOX_LABELS, "")
    assert inspect("--labels", busybox_sif).stdout == BUSYBOX_LABELS


def test_busybox_json_shape(busybox_sif):
    document = json.loads(inspect("--json", busybox_sif).stdout)

    assert document["type"] == "container"
    assert list(document["data"]["attributes"]) == ["labels"]
    assert document["data"]["attributes"]["labels"]["org.label-schema.usage.singularity."
                                                    "version"] == "3.8.1"


def test_busybox_all_is_the_stored_metadata(busybox_sif):
    result = inspect("--all", busybox_sif)
    attributes = json.loads(result.stdout)["data"]["attributes"]

    assert list(attributes) == ["environment", "labels", "runscript", "deffile", "startscript"]
    assert attributes["deffile"] == "BootStrap: docker\nFrom: busybox:1.33.1"
    assert "eval \"set ${SINGULARITY_OCI_RUN}\"" in attributes["runscript"]
    assert "\\u0026\\u0026" in result.stdout
    assert result.stdout.startswith('{\n\t"data": {\n\t\t"attributes": {\n')


def test_busybox_sections_as_text(busybox_sif):
    assert inspect("-d", busybox_sif).stdout == "BootStrap: docker\nFrom: busybox:1.33.1\n"
    assert inspect("-s", busybox_sif).stdout == "#!/bin/sh\n"
    assert inspect("-r", busybox_sif).stdout.endswith('eval "set ${SINGULARITY_OCI_RUN}"\n'
                                                      'exec "$@"\n')
    assert inspect("-e", busybox_sif).stdout == (
        "=== /.singularity.d/env/10-docker2singularity.sh ===\n#!/bin/sh\nexport PATH="
        '"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n\n'
        "=== /.singularity.d/env/90-environment.sh ===\n#!/bin/sh\n"
        "# Custom environment shell code should follow\n\n")
    assert inspect("-t", busybox_sif).stdout == ""
    assert inspect("-H", busybox_sif).stdout == ""


def test_an_image_for_another_architecture_is_inspected(shared_reference):
    result = inspect(shared_reference / "sif-images" / "busybox_arm64.sif")

    assert result.returncode == 0
    assert "org.label-schema.build-arch: arm64\n" in result.stdout


def test_busybox_has_no_help(busybox_sif):
    result = run_help(busybox_sif)

    assert (result.returncode, result.stdout) == (0, NO_HELP)


def test_text_sections_of_a_made_image(made_image):
    assert inspect(made_image).stdout == "a.first: one & <two>\nb.second: 2\n"
    assert inspect("-r", made_image).stdout == "#!/bin/sh\necho hello\n"
    assert inspect("-s", made_image).stdout == "#!/bin/sh\necho started\n"
    assert inspect("-t", made_image).stdout == "#!/bin/sh\ntrue\n"
    assert inspect("-H", made_image).stdout == "Says hello.\n"
    assert inspect("-d", made_image).stdout == DEFFILE
    assert inspect("-e", made_image).stdout == (
        "=== /.singularity.d/env/10-docker2singularity.sh ===\n#!/bin/sh\n"
        'export PATH="/usr/bin"\n\n'
        "=== /.singularity.d/env/90-environment.sh ===\n#!/bin/sh\nexport GREETING=hello\n\n"
        "=== /.singularity.d/env/91-environment.sh ===\nexport LATE=1\n\n")


def test_sections_print_in_apptainer_order(made_image):
    result = inspect("-l", "-H", "-d", "-r", made_image)

    assert result.stdout == (DEFFILE + "#!/bin/sh\necho hello\n" + "Says hello.\n"
                             + "a.first: one & <two>\nb.second: 2\n")


def test_json_of_a_made_image(made_image):
    result = inspect("--json", "-l", "-H", made_image)

    assert result.stdout == (
        '{\n\t"data": {\n\t\t"attributes": {\n\t\t\t"labels": {\n'
        '\t\t\t\t"a.first": "one \\u0026 \\u003ctwo\\u003e",\n\t\t\t\t"b.second": "2"\n'
        '\t\t\t},\n\t\t\t"helpfile": "Says hello."\n\t\t}\n\t},\n\t"type": "container"\n}\n')


def test_all_of_a_made_image_includes_apps(made_image):
    attributes = json.loads(inspect("--all", made_image).stdout)["data"]["attributes"]

    assert list(attributes) == ["apps", "environment", "labels", "runscript", "test",
                                "helpfile", "deffile", "startscript"]
    assert attributes["apps"] == {
        "other": {"test": "#!/bin/sh\ntrue"},
        "tool": {"environment": {"/scif/apps/tool/scif/env/90-environment.sh":
                                 "export TOOL=1"},
                 "labels": {"tool.label": "yes"}, "runscript": "#!/bin/sh\necho tool",
                 "helpfile": "The tool."}}


def test_list_apps(made_image):
    assert inspect("--list-apps", made_image).stdout == "other\ntool\n"


def test_app_sections(made_image):
    assert inspect("--app", "tool", made_image).stdout == "tool.label: yes\n"
    assert inspect("--app", "tool", "-r", made_image).stdout == "#!/bin/sh\necho tool\n"
    assert inspect("--app", "tool", "-e", made_image).stdout == (
        "=== /scif/apps/tool/scif/env/90-environment.sh ===\nexport TOOL=1\n\n")
    assert inspect("--app", "missing", made_image).stdout == ""
    assert json.loads(inspect("--json", "--app", "tool", "-l", "-H", made_image).stdout) == {
        "data": {"attributes": {"apps": {"tool": {"labels": {"tool.label": "yes"},
                                                  "helpfile": "The tool."}}}},
        "type": "container"}


def test_run_help_of_image_and_app(made_image):
    assert run_help(made_image).stdout == "Says hello.\n"
    assert run_help("--app", "tool", made_image).stdout == "The tool.\n"
    assert run_help("--app", "other", made_image).stdout == NO_HELP


def test_sif_with_inspect_metadata_uses_it(sandbox, tmp_path):
    stored = {"data": {"attributes": {"labels": {"from": "json"}, "helpfile": "Stored help",
                                      "apps": {"a": {"helpfile": "App help"}}}},
              "type": "container"}
    image = sif_from_root(sandbox, tmp_path / "stored.sif", inspect_metadata=stored)

    assert inspect(image).stdout == "from: json\n"
    assert run_help(image).stdout == "Stored help\n"
    assert run_help("--app", "a", image).stdout == "App help\n"
    assert inspect("--list-apps", image).stdout == "a\n"


def test_stored_inspect_all_reads_back_identically(sandbox, tmp_path):
    from jupytainer.runtime.metadata import inspect_all, read_root

    stored = json.loads(inspect_all(read_root(str(sandbox))))
    image = sif_from_root(sandbox, tmp_path / "stored.sif", inspect_metadata=stored)

    for flags in (["--all"], ["-l", "-e", "-H"], ["--list-apps"], ["--app", "tool", "-r"]):
        assert inspect(*flags, image).stdout == inspect(*flags, sandbox).stdout


def test_an_image_without_metadata_has_nothing_to_show(tmp_path):
    sandbox = tmp_path / "bare"
    (sandbox / "bin").mkdir(parents=True)

    assert inspect(sandbox).stdout == ""
    assert run_help(sandbox).stdout == NO_HELP
    assert inspect("--json", sandbox).stdout == (
        '{\n\t"data": {\n\t\t"attributes": {}\n\t},\n\t"type": "container"\n}\n')


def test_links_out_of_a_sandbox_are_not_followed(tmp_path):
    sandbox = busybox_root(tmp_path / "sandbox")
    (sandbox / ".singularity.d" / "runscript.help").symlink_to("/etc/passwd")

    assert run_help(sandbox).stdout == NO_HELP


def test_inspect_as_root_and_user(identity, sandbox):
    image = sif_from_root(sandbox, identity.workdir / "user.sif", deffile=DEFFILE)

    result = identity.jupytainer("inspect", "-d", image)

    assert (result.returncode, result.stdout, result.stderr) == (0, DEFFILE, "")


@pytest.mark.parametrize("verb", ["inspect", "run-help"])
def test_missing_image_is_one_fatal_line(verb, tmp_path):
    result = subprocess.run([str(JUPYTAINER), verb, str(tmp_path / "none.sif")],
                            capture_output=True, text=True)

    assert result.returncode == 255
    assert result.stdout == ""
    assert result.stderr.startswith("FATAL:   ") and result.stderr.count("\n") == 1
    assert "none.sif" in result.stderr


@pytest.mark.parametrize("verb", ["inspect", "run-help"])
def test_not_an_image_is_one_fatal_line(verb, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image\n")

    result = subprocess.run([str(JUPYTAINER), verb, str(text)], capture_output=True, text=True)

    assert result.returncode == 255
    assert result.stderr.startswith("FATAL:   ") and result.stderr.count("\n") == 1
    assert "notes.txt" in result.stderr


def test_damaged_partition_is_one_fatal_line(tmp_path):
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 32)
    image = tmp_path / "damaged.sif"
    subprocess.run(["siftool", "new", str(image)], check=True)
    subprocess.run(["siftool", "add", "--datatype", "4", "--parttype", "2", "--partfs", "1",
                    "--partarch", "2", str(image), str(garbage)], check=True)

    result = inspect(image)

    assert result.returncode == 255
    assert result.stderr.startswith("FATAL:   cannot read the metadata of ")
    assert result.stderr.endswith("its root partition is damaged, rebuild it\n")
    assert result.stderr.count("\n") == 1


def test_unparsable_labels_warn_and_show_nothing(tmp_path):
    sandbox = busybox_root(tmp_path / "sandbox", files={"/.singularity.d/labels.json": "{oops"})

    result = inspect(sandbox)

    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.startswith("WARNING: Unable to parse labels: ")


def test_unreadable_inspect_metadata_is_one_fatal_line(sandbox, tmp_path):
    image = sif_from_root(sandbox, tmp_path / "broken.sif", inspect_metadata={"data": []})

    result = inspect(image)

    assert result.returncode == 255
    assert result.stderr.startswith("FATAL:   ") and result.stderr.count("\n") == 1
    assert "unreadable inspect-metadata.json object" in result.stderr


def test_files_of_the_apptainer_image_give_its_stored_metadata(busybox_sif, tmp_path):
    from jupytainer.runtime import sif
    from jupytainer.runtime.metadata import inspect_all, read_root

    with sif.load(busybox_sif) as image:
        stored = json.loads(image.read_bytes(image.find(name="inspect-metadata.json")))
        offset = image.primary_partition().offset
    root = tmp_path / "root"
    subprocess.run(["unsquashfs", "-no-xattrs", "-quiet", "-no-progress", "-o", str(offset),
                    "-d", str(root), str(busybox_sif), "/.singularity.d"], check=True)

    assert json.loads(inspect_all(read_root(str(root)))) == stored
    assert inspect("--all", root).stdout == inspect("--all", busybox_sif).stdout


def test_missing_unsquashfs_is_one_fatal_line_naming_the_package(plain_sif, tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("sh", "cat"):
        (tools / tool).symlink_to(shutil.which(tool))
    env = {**os.environ, "PATH": str(tools)}

    result = subprocess.run([str(JUPYTAINER), "inspect", str(plain_sif)], capture_output=True,
                            text=True, env=env)

    assert result.returncode == 255
    assert result.stderr.count("\n") == 1
    assert "unsquashfs is not installed (it comes with squashfs-tools)" in result.stderr
