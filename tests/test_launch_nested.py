"""A container started from inside another one: the nested launcher shares /tmp with the
outer one but not its pid namespace, and must leave the outer session alone."""

import pytest
from conftest import JUPYTAINER

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")

# The host's root as a sandbox image, so that the installed command and its Python run
# inside the outer container as they do on the host.
HOST_ROOT = "/"


def test_nested_exec_leaves_the_outer_container_working(identity):
    script = (f"{JUPYTAINER} exec {HOST_ROOT} sh -c 'echo inner'"
              " && ls -d /proc/self >/dev/null && echo outer")
    result = identity.jupytainer("exec", HOST_ROOT, "sh", "-c", script, cwd="/tmp")
    assert result.stdout == "inner\nouter\n", result
    assert result.stderr == "", result
    assert result.returncode == 0


def test_a_killed_launchers_session_directory_is_removed_and_a_locked_one_kept(identity,
                                                                              images):
    # pid 1 is always alive: a check by pid would keep both directories.
    base = identity.workdir / "runtime"
    identity.run(["mkdir", "-m", "700", base])
    stale, held = base / "jupytainer-session-1-0", base / "jupytainer-session-1-1"
    identity.run(["mkdir", stale, held])
    holder = identity.run(["sh", "-c", f"flock {held} {JUPYTAINER} exec {images.sandbox}"
                           f" sh -c 'ls {base}'"], env={"XDG_RUNTIME_DIR": str(base)})
    assert holder.returncode == 0, holder
    assert "jupytainer-session-1-1" in holder.stdout
    assert not stale.exists()
    assert held.exists()
