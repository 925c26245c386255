"""Records behave as the dataclasses they replace on the launch path: defaults, fresh
list and dict defaults, equality, copies with changes, and a JSON-ready dict."""

import json

import pytest

from jupytainer.runtime.launch import ContainerOptions


def test_defaults_and_given_fields():
    options = ContainerOptions(contain=True, binds=["/a"])
    assert options.contain and options.binds == ["/a"]
    assert options.pid is True and options.home is None and options.env == {}


def test_list_and_dict_defaults_are_not_shared():
    first, second = ContainerOptions(), ContainerOptions()
    first.binds.append("/a")
    first.env["A"] = "1"
    assert second.binds == [] and second.env == {}


def test_an_unknown_field_is_a_type_error():
    with pytest.raises(TypeError, match="bnids"):
        ContainerOptions(bnids=["/a"])


def test_equality_replace_and_round_trip_through_json():
    options = ContainerOptions(env={"A": "1"}, overlays=["/o:ro"])
    changed = options.replace(instance="web")
    assert changed.instance == "web" and options.instance is None
    assert changed != options and changed.replace(instance=None) == options
    assert ContainerOptions(**json.loads(json.dumps(options.as_dict()))) == options
    assert "overlays=['/o:ro']" in repr(options)
