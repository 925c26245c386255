"""Instances given bad input, and the wall between users: one line, exit 255, nothing
left running or written."""

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import Identity, ensure_test_user
from instance_support import config_env, entry
from test_launch_errors import assert_one_fatal_line

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


def jupytainer(identity, *args):
    return identity.jupytainer(*args, env=config_env(identity))


def test_unknown_instance(identity):
    assert_one_fatal_line(jupytainer(identity, "instance", "stop", "ghost"),
                          "no instance matches ghost")
    assert_one_fatal_line(jupytainer(identity, "exec", "instance://ghost", "true"),
                          "no instance named ghost")


@pytest.mark.parametrize("name", ["bad/name", "with space", "", "semi;colon"])
def test_bad_name(identity, service_image, name):
    result = jupytainer(identity, "instance", "start", service_image, name)
    assert_one_fatal_line(result, "is not valid", "letters, digits")
    assert not list((identity.workdir / "config").glob("instances/app/*/*/*"))


def test_missing_image(identity):
    result = jupytainer(identity, "instance", "start", identity.workdir / "absent.sif", "x")
    assert_one_fatal_line(result, "absent.sif does not exist")
    assert not list((identity.workdir / "config").glob("instances/app/*/*/*"))


def test_image_that_cannot_start_leaves_no_entry(identity, images):
    result = jupytainer(identity, "instance", "start", "-B", "/no/such/dir", images.sif, "x")
    assert_one_fatal_line(result, "bind source /no/such/dir does not exist")
    assert not list((identity.workdir / "config").glob("instances/app/*/*/*"))


def test_pid_file_that_cannot_be_written(identity, service_image):
    result = jupytainer(identity, "instance", "start", "--pid-file", "/proc/no/such.pid",
                        service_image, "x")
    assert_one_fatal_line(result, "cannot write the PID file /proc/no/such.pid")
    assert not list((identity.workdir / "config").glob("instances/app/*/*/*"))


def test_duplicate_name(identity, service_image):
    first = jupytainer(identity, "instance", "start", service_image, "twin")
    assert first.returncode == 0, first.stderr
    try:
        second = jupytainer(identity, "instance", "start", service_image, "twin")
        assert_one_fatal_line(second, "instance twin already exists")
    finally:
        assert jupytainer(identity, "instance", "stop", "twin").returncode == 0


def test_bad_stop_requests(identity):
    assert_one_fatal_line(jupytainer(identity, "instance", "stop"), "--all")
    assert_one_fatal_line(jupytainer(identity, "instance", "stop", "--signal", "SIGNOPE",
                                     "--all"), "unknown signal SIGNOPE")


@pytest.mark.usefixtures("leaves_nothing_behind")
def test_users_never_see_or_stop_each_others_instances(service_image, request):
    """Root and the test user each start "mine"; the other, even pointed at the owner's
    state directory, neither lists, joins nor stops it."""
    if os.geteuid() != 0:
        pytest.skip("the suite must run as root to test both privilege modes")
    people = []
    for account in (pwd.getpwuid(0), ensure_test_user()):
        workdir = Path(tempfile.mkdtemp(prefix="jupytainer-wall-", dir="/tmp"))
        os.chmod(workdir, 0o755)
        os.chown(workdir, account.pw_uid, account.pw_gid)
        request.addfinalizer(lambda path=workdir: shutil.rmtree(path, ignore_errors=True))
        people.append(Identity(account.pw_name, account.pw_uid, account.pw_gid,
                               Path(account.pw_dir), workdir))
    for owner, other in (people, people[::-1]):
        started = jupytainer(owner, "instance", "start", service_image, "mine")
        assert started.returncode == 0, started.stderr
        try:
            # Pointed at the owner's own state directory, the other still sees nothing.
            peek = other.jupytainer("instance", "list", "--json", env=config_env(owner))
            assert '"instances": []' in peek.stdout, peek
            assert_one_fatal_line(other.jupytainer("instance", "stop", "mine",
                                                   env=config_env(owner)),
                                  "no instance matches mine")
            assert_one_fatal_line(other.jupytainer("exec", "instance://mine", "true",
                                                   env=config_env(owner)),
                                  "no instance named mine")
            assert entry(owner, "mine")["user"] == owner.name
        finally:
            assert jupytainer(owner, "instance", "stop", "mine").returncode == 0
