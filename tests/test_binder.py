"""The Binder demo: its repo2docker files agree with what jupytainer needs, and its demo
notebooks run headless from start to end, as root and as an unprivileged user, so that
they keep working."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import JUPYTAINER
from images_cache import CACHE

BINDER = Path(__file__).resolve().parent.parent / "binder"
DEMOS = sorted(path.name for path in (BINDER / "demos").glob("*.ipynb"))
JUPYTER_EXECUTE = JUPYTAINER.parent / "jupyter-execute"
# Filled as root once; the default image takes minutes to build (see the default image tests).
SHARED_CACHE = CACHE / "default-image-cache"


@pytest.fixture(scope="module")
def default_image_cache() -> str:
    env = {**os.environ, "JUPYTAINER_CACHEDIR": str(SHARED_CACHE)}
    subprocess.run([str(JUPYTAINER), "-q", "kernel", "default", "--prefix",
                    str(SHARED_CACHE / "unused-prefix")], env=env, check=True, timeout=3600)
    subprocess.run(["chmod", "-R", "a+rX", str(SHARED_CACHE)], check=True)
    return str(SHARED_CACHE)


def test_binder_installs_the_runtime_packages_jupytainer_needs():
    ours = set((BINDER.parent / "dev" / "apt-packages.txt").read_text().split())
    binder = (BINDER / "apt.txt").read_text().split()

    assert set(binder) <= ours
    assert {"squashfs-tools", "squashfuse", "fuse3", "uidmap"} <= set(binder)


def test_post_build_is_an_executable_script_that_fails_the_build_on_errors():
    post_build = BINDER / "postBuild"

    assert post_build.stat().st_mode & stat.S_IXUSR
    assert "set -euo pipefail" in post_build.read_text()
    assert "pip install --no-cache-dir --no-deps ." in post_build.read_text()


def test_the_demos_are_the_three_the_readme_names():
    readme = (BINDER / "README.md").read_text()

    assert DEMOS == ["build-with-def.ipynb", "container-kernel.ipynb",
                     "publish-reproduce.ipynb"]
    assert all(name in readme for name in DEMOS)


@pytest.mark.slow
@pytest.mark.parametrize("demo", DEMOS)
def test_a_demo_notebook_runs_headless(identity, default_image_cache, demo):
    shutil.copyfile(BINDER / "demos" / demo, identity.workdir / demo)
    identity.make_owned(identity.workdir / demo)
    data = identity.make_owned(_directory(identity.workdir / "jupyter-data"))
    env = {"JUPYTAINER_CACHEDIR": default_image_cache, "JUPYTER_DATA_DIR": str(data),
           "PATH": f"{JUPYTAINER.parent}:{os.environ['PATH']}"}

    result = identity.run([JUPYTER_EXECUTE, "--timeout=1200", demo], env=env, timeout=1800)

    assert result.returncode == 0, result.stderr[-4000:]


def _directory(path: Path) -> Path:
    path.mkdir()
    return path
