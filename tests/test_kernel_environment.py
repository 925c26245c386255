"""What a container kernel sees: the server's environment without the server's Python
settings, no user site-packages from the host home unless asked, and its connection file
even when the home and /tmp are private (--contain)."""

import json

import pytest
from images_cache import python_kernel_image
from kernel_support import KernelSetup

pytestmark = pytest.mark.slow

SHOW = ("import os, json, site\n"
        "names = ['VIRTUAL_ENV', 'CONDA_PREFIX', 'PYTHONPATH', 'PYTHONNOUSERSITE',"
        " 'JPY_PARENT_PID', 'ANALYSIS_SETTING']\n"
        "print(json.dumps({'env': {n: os.environ.get(n) for n in names},"
        " 'user_site': site.ENABLE_USER_SITE, 'ppid': os.getppid(),"
        " 'tmp': sorted(os.listdir('/tmp'))}))")
SERVER_ENV = {"VIRTUAL_ENV": "/opt/server-venv", "CONDA_PREFIX": "/opt/conda/envs/server",
              "PYTHONPATH": "/opt/server-venv/lib", "ANALYSIS_SETTING": "kept"}


def seen_by_kernel(setup: KernelSetup) -> dict:
    setup.env.update(SERVER_ENV)
    return json.loads(setup.drive("ask", "box", SHOW)["output"])


def test_the_servers_python_settings_stay_outside(identity):
    setup = KernelSetup(identity)
    assert setup.install(python_kernel_image()).returncode == 0

    seen = seen_by_kernel(setup)

    assert seen["env"] == {"VIRTUAL_ENV": None, "CONDA_PREFIX": None, "PYTHONPATH": None,
                           "PYTHONNOUSERSITE": "1", "JPY_PARENT_PID": "1",
                           "ANALYSIS_SETTING": "kept"}
    assert seen["user_site"] is False
    assert seen["ppid"] == 1
    assert setup.leftovers() == []


def test_user_site_packages_when_asked(identity):
    setup = KernelSetup(identity)
    assert setup.install(python_kernel_image(), "box", "--user-site").returncode == 0

    seen = seen_by_kernel(setup)

    assert seen["env"]["PYTHONNOUSERSITE"] is None
    assert seen["user_site"] is True


def test_a_contained_kernel_reads_its_connection_file(identity):
    setup = KernelSetup(identity)
    assert setup.install(python_kernel_image(), "box", "--contain").returncode == 0

    seen = seen_by_kernel(setup)

    assert seen["tmp"] == []
    assert seen["env"]["ANALYSIS_SETTING"] == "kept"
    assert setup.leftovers() == []
