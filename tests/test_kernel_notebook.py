"""Real notebooks run by nbclient in kernels inside an image built by the builder: an
older Debian than the host, with the caller's files bound in."""

import pytest
from kernel_images import bullseye_kernel_image
from kernel_support import KernelSetup

pytestmark = pytest.mark.slow


def test_a_notebook_runs_in_the_image_with_interrupt_and_restart(identity):
    setup = KernelSetup(identity)
    data = identity.workdir / "data"
    data.mkdir()
    (data / "measurements.txt").write_text("42 degrees\n")
    identity.make_owned(data)
    installed = setup.install(bullseye_kernel_image(), "bullseye", "--bind", f"{data}:/mnt")
    assert installed.returncode == 0, installed.stderr

    result = setup.drive("notebook", "bullseye", "/mnt/measurements.txt")

    os_release, bound, _, interrupted, after_interrupt, after_restart = result["outputs"]
    assert 'VERSION_CODENAME=bullseye' in os_release
    assert bound == "42 degrees\n"
    assert interrupted.startswith("KeyboardInterrupt")
    assert after_interrupt == "still here\n"
    assert after_restart == "False\n"
    assert len(result["launchers_before_restart"]) == 1
    assert len(result["launchers_after_restart"]) == 1
    assert result["launchers_after_restart"] != result["launchers_before_restart"]
    assert setup.leftovers() == []
