"""The Python API of instances, as the JupyterLab sidebar and the magics call it."""

import pytest
from instance_support import wait_for

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.instances import (Instance, get_instance, list_instances,
                                          start_instance, stop_instance)
from jupytainer.runtime.launch import ContainerOptions

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTAINER_CONFIGDIR", str(tmp_path / "config"))
    return tmp_path / "config"


def test_start_list_stop(state_dir, service_image):
    instance = start_instance(service_image, "api", ["sh", "-c", "echo $APPTAINER_INSTANCE"],
                              ContainerOptions(contain=True))
    assert isinstance(instance, Instance) and instance.is_running()
    assert [found.name for found in list_instances()] == ["api"]
    assert get_instance("api") == instance
    with pytest.raises(JupytainerError, match="instance api already exists"):
        start_instance(service_image, "api")

    wait_for(lambda: open(instance.log_out).read() == "api\n", "the startscript wrote")
    stop_instance(instance)
    assert not instance.is_running()
    assert list_instances() == []
    with pytest.raises(JupytainerError, match="no instance named api"):
        get_instance("api")


def test_run_action_runs_the_runscript(state_dir, images):
    instance = start_instance(images.sif, "runner", ["x"], action="run")
    try:
        assert list_instances("run*") == [instance]
        wait_for(lambda: open(instance.log_out).read() == "runscript args: x\n",
                 "the runscript wrote")
    finally:
        stop_instance(instance, timeout=30)
