"""The builder's rules taken one at a time: interpreter lines, the shebang rule, label
formats, apt's mirror, paths inside a root filesystem, --section."""

import time
from pathlib import Path

import pytest

from jupytainer.runtime.build import apt_sources, labels, layout, paths
from jupytainer.runtime.build.arch import rootfs_arch
from jupytainer.runtime.build.options import BuildOptions
from jupytainer.runtime.build.scripts import post_command
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.image import host_arch


@pytest.mark.parametrize("args, argv", [
    ("", ["/bin/sh", "-ex", "/.post.script"]),
    ("-c /bin/bash", ["/bin/sh", "-ex", "-c", "/bin/bash /.post.script"]),
    ("-c /bin/bash -l # login shell", ["/bin/sh", "-ex", "-c", "/bin/bash -l /.post.script"]),
    ("-u", ["/bin/sh", "-ex", "-u", "/.post.script"]),
])
def test_post_interpreter_line(args, argv):
    assert post_command(args) == argv


def test_post_c_needs_a_command():
    with pytest.raises(JupytainerError, match="missing arguments"):
        post_command("-c  # nothing")


@pytest.mark.parametrize("text, args, script", [
    ("    echo hi\n", "", "#!/bin/sh\n\necho hi\n"),
    ("#!/usr/bin/python3\nprint(1)\n", "", "#!/usr/bin/python3\n\nprint(1)\n"),
    ("echo hi\n", "-e # strict", "#!/bin/sh -e\n\necho hi\n"),
])
def test_shebang_rule(text, args, script):
    assert layout.script_text(text, args) == script


def test_build_date_pads_only_the_hour():
    moment = time.mktime((2026, 3, 5, 7, 4, 9, 0, 0, 0)) - time.timezone
    built = labels.build_labels({"bootstrap": "scratch"}, moment, False, False)

    assert built["org.label-schema.build-date"] == "Thursday_5_March_2026_07:4:9_UTC"
    assert built["org.opencontainers.image.created"] == "2026-03-05T07:04:09Z"
    assert built["org.label-schema.usage.singularity.deffile.bootstrap"] == "scratch"


def test_update_builds_do_not_relabel_the_header():
    built = labels.build_labels({"bootstrap": "scratch"}, 0, True, True)

    assert not [key for key in built if ".deffile." in key]
    assert built["org.label-schema.usage"] == "/.singularity.d/runscript.help"


def test_label_lines_split_at_the_first_space():
    assert labels.parse_label_lines("A b c\n# no\n\nTAB\tsep\n") == {"A": "b c", "TAB\tsep": ""}


def test_default_mirror_from_deb822_and_one_line_sources(tmp_path, monkeypatch):
    (tmp_path / "sources.list").write_text("# nothing\ndeb [arch=amd64] "
                                           "http://security.example/debian-security "
                                           "bookworm-security main\n")
    directory = tmp_path / "sources.list.d"
    directory.mkdir()
    (directory / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main\n")
    (directory / "other.sources").write_text(
        "Enabled: no\nTypes: deb\nURIs: http://disabled.example\nSuites: bookworm\n")
    monkeypatch.setattr(apt_sources, "SOURCES_LIST", tmp_path / "sources.list")
    monkeypatch.setattr(apt_sources, "SOURCES_DIR", directory)

    assert apt_sources.default_mirror() == "http://mirror.example/debian"


def test_paths_inside_follow_links_without_leaving_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/resolv.conf").symlink_to("/run/resolv.conf")
    (root / "escape").symlink_to("../../..")
    (root / "usr/lib").mkdir(parents=True)
    (root / "lib").symlink_to("usr/lib")

    assert paths.inside(root, "/etc/resolv.conf") == root / "run/resolv.conf"
    assert paths.inside(root, "/escape/etc/passwd") == root / "etc/passwd"
    assert paths.inside(root, "lib/x") == root / "usr/lib/x"
    assert paths.parent_inside(root, "/lib") == root / "lib"


def test_link_loops_are_refused(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")

    with pytest.raises(JupytainerError, match="too many levels"):
        paths.inside(tmp_path, "/a")


def test_sections_accept_comma_lists():
    options = BuildOptions(Path("x.sif"), "x.def", sections=["setup,post", "labels"])

    assert options.runs("post") and options.runs("labels") and not options.runs("test")
    assert BuildOptions(Path("x"), "x").runs("test")
    assert not BuildOptions(Path("x"), "x", sections=["none"]).runs("post")


def _elf(path: Path, bits: int, machine: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF" + bytes([bits // 32, 1, 1]) + bytes(11)
                     + machine.to_bytes(2, "little") + bytes(44))


def test_partition_arch_is_that_of_bin_sh(tmp_path):
    _elf(tmp_path / "arm/usr/bin/dash", 64, 183)
    (tmp_path / "arm/bin").symlink_to("usr/bin")
    (tmp_path / "arm/usr/bin/sh").symlink_to("/usr/bin/dash")
    (tmp_path / "script/bin").mkdir(parents=True)
    (tmp_path / "script/bin/sh").write_text("#!/not/elf\n")

    assert rootfs_arch(tmp_path / "arm") == "arm64"
    assert rootfs_arch(tmp_path / "script") == host_arch()
    assert rootfs_arch(tmp_path / "empty") == host_arch()
