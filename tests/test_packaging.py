"""The distribution maps every source folder's packages into the `jupytainer` namespace."""

import tomllib
from pathlib import Path

from conftest import REPO


def test_every_source_package_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    for package, folder in config["package-dir"].items():
        for init in (REPO / folder).rglob("__init__.py"):
            if "node_modules" in init.parts:
                continue
            relative = init.parent.relative_to(REPO / folder)
            name = ".".join([package, *relative.parts])
            assert name in listed, f"{name} ({init.parent}) is missing from pyproject.toml"
