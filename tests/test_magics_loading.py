"""How the extension is loaded: `%load_ext jupytainer`, or IPython's configuration for every
kernel; importing jupytainer alone does not import IPython."""

import subprocess
import sys

from magics_support import run_cells


def test_importing_jupytainer_does_not_import_ipython():
    code = "import sys, jupytainer; print('IPython' in sys.modules)"

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)

    assert result.stdout == "False\n"
    assert "load_ipython_extension" in subprocess.run(
        [sys.executable, "-c", "import jupytainer; print(dir(jupytainer))"],
        capture_output=True, text=True, check=True).stdout


def test_the_configuration_option_loads_the_magics_in_every_kernel(identity):
    profile = identity.workdir / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(
        'c.InteractiveShellApp.extensions = ["jupytainer"]\n')
    subprocess.run(["chown", "-R", f"{identity.uid}:{identity.gid}",
                    str(identity.workdir / "ipython")], check=True)

    [cell] = run_cells(identity, "%container", load_ext=False,
                       env={"IPYTHONDIR": str(identity.workdir / "ipython")})

    assert cell.error["ename"] == "UsageError"
    assert "%container takes one of" in cell.error["evalue"]


def test_without_the_extension_the_magics_do_not_exist(identity):
    [cell] = run_cells(identity, "%container", load_ext=False,
                       env={"IPYTHONDIR": str(identity.workdir / "empty-ipython")})

    assert "Line magic function `%container` not found" in cell.error["evalue"]
