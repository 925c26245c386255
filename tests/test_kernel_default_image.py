"""The built-in default image: built from the definition shipped in the package on first
use, reused afterwards, and a working kernel with the scientific Python stack."""

import os
import subprocess
import tempfile

import pytest
from conftest import JUPYTAINER
from images_cache import CACHE
from kernel_support import KernelSetup

from jupytainer.kernel import default_image

pytestmark = pytest.mark.slow

# One cache for both identities, filled as root: the build takes minutes, once per machine.
SHARED_CACHE = CACHE / "default-image-cache"


@pytest.fixture(scope="module")
def shared_cache() -> dict[str, str]:
    env = {**os.environ, "JUPYTAINER_CACHEDIR": str(SHARED_CACHE)}
    with tempfile.TemporaryDirectory() as prefix:
        subprocess.run([str(JUPYTAINER), "-q", "kernel", "default", "--prefix", prefix],
                       env=env, check=True, timeout=3600)
    subprocess.run(["chmod", "-R", "a+rX", str(SHARED_CACHE)], check=True)
    return {"JUPYTAINER_CACHEDIR": str(SHARED_CACHE)}


def test_the_default_kernel_is_reused_and_has_the_scientific_stack(identity, shared_cache):
    setup = KernelSetup(identity)
    setup.env.update(shared_cache)

    installed = identity.jupytainer("kernel", "default", "--prefix", setup.prefix,
                                    env=setup.env)

    assert installed.returncode == 0, installed.stderr
    assert "Building" not in installed.stderr
    code = ("import numpy, scipy, pandas, matplotlib, platform\n"
            "print(platform.freedesktop_os_release()['VERSION_CODENAME'],"
            " numpy.linspace(0, 1, 3).sum(), pandas.Series([1, 2]).sum())")
    answer = setup.drive("ask", default_image.KERNEL_NAME, code)
    assert answer["output"] == "bookworm 1.5 3\n"
    assert setup.leftovers() == []

