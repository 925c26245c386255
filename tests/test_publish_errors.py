"""Every mistake of pin, publish and reproduce is one FATAL line and exit status 255, and
a bundle changed after publishing (one byte of its notebook or image) is refused, naming
the file. These fail before any container starts, so they run as root only."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import JUPYTAINER
from images_cache import python_kernel_image
from publish_support import bundle_of, tampered_copy, write_notebook


def jupytainer(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTAINER), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def refused(result: subprocess.CompletedProcess, *words: str) -> bool:
    """Exit 255 with one FATAL line naming every word, and no traceback."""
    fatal = [line for line in result.stderr.splitlines() if line.startswith("FATAL:")]
    return (result.returncode == 255 and len(fatal) == 1 and "Traceback" not in result.stderr
            and all(word in fatal[0] for word in words))


@pytest.fixture
def project(tmp_path) -> Path:
    """A pinned notebook, a data file and a copy of the image it is pinned to."""
    shutil.copyfile(python_kernel_image(), tmp_path / "analysis.sif")
    write_notebook(tmp_path / "analysis.ipynb", ["print(42)"])
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    assert jupytainer("pin", "analysis.ipynb", "analysis.sif", cwd=tmp_path).returncode == 0
    return tmp_path


@pytest.fixture
def bundle(project) -> Path:
    result = jupytainer("publish", "analysis.ipynb", "--include", "data.csv", cwd=project)
    assert result.returncode == 0, result.stderr
    return project / "analysis.tar.zst"


def test_pin_writes_digest_definition_labels_options_and_version(project):
    result = jupytainer("pin", "analysis.ipynb", "analysis.sif", "--bind", "/srv:/data",
                        "--cleanenv", cwd=project)

    pin = json.loads((project / "analysis.ipynb").read_text())["metadata"]["jupytainer"]
    assert result.returncode == 0, result.stderr
    assert pin["image_digest"].startswith("sha256:") and len(pin["image_digest"]) == 71
    assert "python3-ipykernel" in pin["definition"]
    assert pin["labels"]["org.jupytainer.test"] == "python3-ipykernel"
    assert pin["binds"] == ["/srv:/data"] and pin["options"] == {"cleanenv": True}
    assert pin["version"]


def test_a_bundle_holds_notebook_image_definition_data_manifest_and_readme(bundle):
    result = subprocess.run(["tar", "--zstd", "-tf", bundle], capture_output=True, text=True)
    unpacked = bundle.parent / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", bundle, "-C", unpacked], check=True)
    checked = subprocess.run(["sha256sum", "-c", "MANIFEST"], cwd=unpacked / "analysis",
                             capture_output=True, text=True)

    assert sorted(result.stdout.split()) == [
        "analysis/MANIFEST", "analysis/README.md", "analysis/analysis.ipynb",
        "analysis/data.csv", "analysis/image/analysis.def", "analysis/image/analysis.sif"]
    assert checked.returncode == 0, checked.stdout
    readme = (unpacked / "analysis" / "README.md").read_text()
    assert "jupytainer reproduce analysis.tar.zst --output analysis-reproduced.ipynb" in readme


def test_no_image_keeps_only_the_digest_and_the_definition(project):
    result = jupytainer("publish", "analysis.ipynb", "--no-image", "-o", "light.tar.zst",
                        cwd=project)
    listing = subprocess.run(["tar", "--zstd", "-tf", project / "light.tar.zst"],
                             capture_output=True, text=True).stdout

    assert result.returncode == 0, result.stderr
    assert "analysis/image/analysis.def" in listing and ".sif" not in listing
    without = jupytainer("reproduce", "light.tar.zst", cwd=project)
    assert refused(without, "--image")


@pytest.mark.parametrize("member", ["analysis.ipynb", "analysis.sif"])
def test_a_bundle_with_one_byte_changed_is_refused_naming_the_file(bundle, member):
    tampered = tampered_copy(bundle, member, bundle.parent / "tampered.tar.zst")

    result = jupytainer("reproduce", tampered, cwd=bundle.parent)

    assert refused(result, member, "MANIFEST")


def test_a_file_added_to_a_bundle_is_refused(bundle, tmp_path):
    members = {"analysis/MANIFEST": b"", "analysis/extra.py": b"print(1)\n"}
    result = jupytainer("reproduce", bundle_of(members, tmp_path / "added.tar.zst"),
                        cwd=tmp_path)

    assert refused(result, "extra.py", "not listed")


def test_a_bundle_member_outside_its_directory_is_refused(tmp_path):
    target = bundle_of({"../escape.txt": b"x"}, tmp_path / "escape.tar.zst")

    result = jupytainer("reproduce", target, cwd=tmp_path)

    assert refused(result, "../escape.txt", "outside")
    assert not (tmp_path.parent / "escape.txt").exists()


@pytest.mark.parametrize("content", [b"", b"not zstandard at all", b"(\xb5/\xfd garbage"])
def test_a_file_that_is_not_a_bundle_is_refused(tmp_path, content):
    (tmp_path / "bad.tar.zst").write_bytes(content)

    assert refused(jupytainer("reproduce", "bad.tar.zst", cwd=tmp_path), "bad.tar.zst")


def test_a_different_image_is_refused_before_anything_runs(project, bundle):
    other = project / "other.sif"
    shutil.copyfile(python_kernel_image(), other)
    with open(other, "ab") as handle:
        handle.write(b"\0")

    result = jupytainer("reproduce", bundle, "--image", other, cwd=project)

    assert refused(result, "other.sif", "not the pinned image", "--allow-different-image")


@pytest.mark.parametrize("verb", [("pin", "missing.ipynb", "analysis.sif"),
                                  ("publish", "missing.ipynb"),
                                  ("reproduce", "missing.ipynb"),
                                  ("reproduce", "missing.tar.zst")])
def test_a_missing_notebook_or_bundle_is_one_line(project, verb):
    assert refused(jupytainer(*verb, cwd=project), "missing.")


@pytest.mark.parametrize("verb", ["publish", "reproduce"])
def test_an_unpinned_notebook_is_refused_saying_how_to_pin_it(tmp_path, verb):
    write_notebook(tmp_path / "loose.ipynb", ["1 + 1"])

    assert refused(jupytainer(verb, "loose.ipynb", cwd=tmp_path), "not pinned",
                   "jupytainer pin")


def test_a_file_that_is_not_a_notebook_is_refused(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{ not json")
    (tmp_path / "list.ipynb").write_text("[1, 2]")

    assert refused(jupytainer("publish", "broken.ipynb", cwd=tmp_path), "broken.ipynb")
    assert refused(jupytainer("publish", "list.ipynb", cwd=tmp_path), "not a Jupyter notebook")


def test_pin_refuses_missing_images_sandboxes_and_unpinnable_kernels(project):
    (project / "sandbox").mkdir()
    (project / "text.sif").write_text("not an image\n")

    assert refused(jupytainer("pin", "analysis.ipynb", "nowhere.sif", cwd=project),
                   "nowhere.sif")
    assert refused(jupytainer("pin", "analysis.ipynb", "sandbox", cwd=project), "sandbox")
    assert refused(jupytainer("pin", "analysis.ipynb", "text.sif", cwd=project), "text.sif")
    assert refused(jupytainer("pin", "analysis.ipynb", cwd=project), "not run in a container")
    assert "image_digest" in (project / "analysis.ipynb").read_text()


def test_publish_refuses_bad_includes_a_wrong_image_and_an_unwritable_target(project):
    outside = project.parent / "outside.txt"
    outside.write_text("x")
    write_notebook(project / "other.ipynb", ["2"])
    assert jupytainer("pin", "other.ipynb", "analysis.sif", cwd=project).returncode == 0
    (project / "analysis.sif").write_bytes(b"changed")

    assert refused(jupytainer("publish", "other.ipynb", "--no-image", "--include", outside,
                              cwd=project), "outside")
    assert refused(jupytainer("publish", "other.ipynb", "--no-image", "--include", "nope",
                              cwd=project), "nope")
    assert refused(jupytainer("publish", "other.ipynb", cwd=project), "not the image")
    assert refused(jupytainer("publish", "other.ipynb", "--no-image", "-o",
                              "/nonexistent/x.tar.zst", cwd=project), "/nonexistent")
    assert not list(project.glob(".*tar.zst*")) and not (project / "other.tar.zst").exists()


def test_reproduce_refuses_an_output_that_is_not_a_notebook(bundle):
    result = jupytainer("reproduce", bundle, "--output", "out.txt", cwd=bundle.parent)

    assert refused(result, "out.txt", ".ipynb")
