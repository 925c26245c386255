"""The magics in a kernel that itself runs in a container: they need only jupytainer to be
importable there, and run the container's own Python."""

import json
import shutil
from pathlib import Path

import pytest
from images_cache import python_kernel_image
from kernel_support import KernelSetup

import jupytainer


@pytest.mark.slow
def test_the_magics_work_in_a_container_kernel(identity):
    library = identity.workdir / "pylib"
    shutil.copytree(Path(jupytainer.__file__).parent, library / "jupytainer")
    setup = KernelSetup(identity)
    installed = setup.install(python_kernel_image(), "magics-box", "--env",
                              f"PYTHONPATH={library}")
    assert installed.returncode == 0, installed.stderr
    code = ("%load_ext jupytainer\nimport sys\nprint(sys.executable)\nlisting = '--json'\n"
            "%container instance list $listing")

    answer = setup.drive("ask", "magics-box", code)

    executable, listing = answer["output"].split("\n", 1)
    assert executable == "/usr/bin/python3"
    assert json.loads(listing) == {"instances": []}
    assert setup.leftovers() == []
