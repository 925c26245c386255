"""Every way a build can be refused or fail: one FATAL line naming the problem and the fix,
exit status 255, and nothing left behind (no target, no temporary file or directory)."""

import os
import subprocess

import pytest

from build_support import BUSYBOX_HEADER, build, write_definition

CASES = {
    "unknown bootstrap": ("Bootstrap: nosuch\n", [], "unknown bootstrap agent 'nosuch'"),
    "unavailable agent": ("Bootstrap: library\nFrom: alpine\n", [],
                          "Bootstrap: library is not available"),
    "oras agent": ("Bootstrap: oras\nFrom: example.org/sifs/tool:1\n", [],
                   "'jupytainer pull tool.sif oras://example.org/sifs/tool:1'"),
    "yum agent": ("Bootstrap: yum\nMirrorURL: http://example.invalid\n", [],
                  "'Bootstrap: docker'"),
    "busybox without mirror": ("Bootstrap: busybox\n", [], "needs MirrorURL"),
    "busybox mirror missing": ("Bootstrap: busybox\nMirrorURL: file:///nonexistent/busybox\n",
                               [], "cannot download MirrorURL file:///nonexistent/busybox"),
    "busybox mirror scheme": ("Bootstrap: busybox\nMirrorURL: ftp://example.invalid/bb\n", [],
                              "is not an http://, https:// or file:// URL"),
    "busybox not static": ("Bootstrap: busybox\nMirrorURL: file:///usr/bin/python3\n", [],
                           "is not a static busybox binary"),
    "debootstrap without release": ("Bootstrap: debootstrap\n", [], "needs OSVersion"),
    "localimage missing": ("Bootstrap: localimage\nFrom: /nonexistent.sif\n", [],
                           "image /nonexistent.sif does not exist"),
    "files without match": ("Bootstrap: scratch\n%files\n    no-such-*.txt /opt/\n", [],
                            "%files: no file matches no-such-*.txt"),
    "setup fails": ("Bootstrap: scratch\n%setup\n    exit 3\n", [],
                    "%setup failed with exit status 3"),
    "post fails": (BUSYBOX_HEADER + "%post\n    false\n", [], "%post failed with exit status 1"),
    "post -c without command": (BUSYBOX_HEADER + "%post -c\n    true\n", [],
                                "bad post section '-c' parameter: missing arguments"),
    "test fails": (BUSYBOX_HEADER + "%test\n    exit 4\n", [],
                   "%test failed with exit status 4: fix the test or build with --notest"),
    "section all with others": ("Bootstrap: scratch\n", ["--section", "all,post"],
                                "--section all cannot be combined"),
    "unknown section": ("Bootstrap: scratch\n", ["--section", "poste"],
                        "--section: unknown section poste"),
    "update without sandbox": ("Bootstrap: scratch\n", ["--update"],
                               "only sandbox update is supported: --sandbox flag is missing"),
    "bad mksquashfs args": ("Bootstrap: scratch\n", ["--mksquashfs-args", "-comp nosuch"],
                            "mksquashfs failed"),
    "unknown section in file": ("Bootstrap: scratch\n%enviroment\n    X=1\n", [],
                                "enviroment"),
    "build arg without value": ("Bootstrap: scratch\n", ["--build-arg", "NOVALUE"],
                                "is not a KEY=VALUE pair"),
    "undefined build arg": ("Bootstrap: scratch\n%runscript\n    echo {{ WHO }}\n", [],
                            "WHO"),
    "files from unknown stage": ("Bootstrap: scratch\n%files from nowhere\n    /a /b\n", [],
                                 "no earlier stage is named 'nowhere'"),
}


def assert_failed_cleanly(result, identity, message: str) -> None:
    assert result.returncode == 255, result.stderr
    fatal = [line for line in result.stderr.splitlines() if line.startswith("FATAL:")]
    assert len(fatal) == 1 and message in fatal[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (identity.workdir / "image.sif").exists()
    assert not [name for name in os.listdir(identity.workdir) if name.startswith(".image")]
    assert os.listdir(identity.workdir / "tmp") == []


@pytest.mark.parametrize("case", CASES)
def test_build_error(identity, case):
    text, flags, message = CASES[case]
    definition = write_definition(identity, text)
    scratch = identity.workdir / "tmp"
    scratch.mkdir()
    identity.make_owned(scratch)

    result = build(identity, identity.workdir / "image.sif", definition, *flags,
                   env={"JUPYTAINER_TMPDIR": str(scratch)})

    assert_failed_cleanly(result, identity, message)


def test_missing_source(identity):
    (identity.workdir / "tmp").mkdir()
    result = build(identity, identity.workdir / "image.sif", identity.workdir / "none.def")

    assert_failed_cleanly(result, identity, "does not exist: give a definition file")


def test_a_binary_file_given_as_definition_is_named_in_one_short_line(identity):
    (identity.workdir / "tmp").mkdir()
    binary = identity.workdir / "tool.def"
    binary.write_bytes(open("/bin/busybox", "rb").read(4096))
    identity.make_owned(binary)

    result = build(identity, identity.workdir / "image.sif", binary)

    assert_failed_cleanly(result, identity, f"{binary} is not a text file (it holds NUL bytes)")
    assert len(result.stderr.splitlines()[-1]) < 200


def test_target_directory_must_exist(identity):
    definition = write_definition(identity, "Bootstrap: scratch\n")
    result = build(identity, identity.workdir / "no" / "image.sif", definition)

    assert result.returncode == 255
    assert "the directory" in result.stderr and "does not exist" in result.stderr


def test_non_sandbox_directory_is_not_replaced(identity):
    definition = write_definition(identity, "Bootstrap: scratch\n")
    target = identity.workdir / "precious"
    target.mkdir()
    (target / "thesis.tex").write_text("years of work")
    identity.make_owned(target)

    result = build(identity, target, definition, "--sandbox")

    assert result.returncode == 255
    assert "is not empty and is not an Apptainer sandbox" in result.stderr
    assert (target / "thesis.tex").read_text() == "years of work"


def test_update_needs_an_existing_directory(identity):
    definition = write_definition(identity, "Bootstrap: scratch\n")
    result = build(identity, identity.workdir / "none", definition, "--sandbox", "--update")

    assert result.returncode == 255
    assert "only sandbox update is supported" in result.stderr
    assert "is not a directory" in result.stderr


def test_source_date_epoch_must_be_a_number(identity):
    definition = write_definition(identity, "Bootstrap: scratch\n")
    result = build(identity, identity.workdir / "image.sif", definition,
                   env={"SOURCE_DATE_EPOCH": "yesterday"})

    assert result.returncode == 255
    assert "SOURCE_DATE_EPOCH=yesterday is not a number" in result.stderr
    assert not (identity.workdir / "image.sif").exists()


def test_missing_tool_is_named(identity):
    definition = write_definition(identity, "Bootstrap: scratch\n")
    scratch = identity.workdir / "tmp"
    scratch.mkdir()
    identity.make_owned(scratch)
    result = build(identity, identity.workdir / "image.sif", definition,
                   env={"PATH": "/usr/sbin:/sbin", "JUPYTAINER_TMPDIR": str(scratch)})

    tool = "mksquashfs" if identity.is_root else "unshare"
    assert_failed_cleanly(result, identity, f"{tool} is not installed: install it")


def test_truncated_sif_source(identity):
    whole = identity.workdir / "whole.sif"
    built = build(identity, whole, write_definition(identity, "Bootstrap: scratch\n"))
    assert built.returncode == 0, built.stderr
    truncated = identity.workdir / "truncated.sif"
    truncated.write_bytes(whole.read_bytes()[:33000])
    identity.make_owned(truncated)

    result = build(identity, identity.workdir / "out", truncated, "--sandbox")

    assert result.returncode == 255
    assert "is truncated" in result.stderr
    assert not (identity.workdir / "out").exists()
    assert not [name for name in os.listdir(identity.workdir) if name.startswith(".out")]


def test_target_directory_must_be_writable(identity):
    definition = write_definition(identity, "Bootstrap: scratch\n")
    readonly = identity.workdir / "readonly"
    readonly.mkdir(mode=0o555)
    os.chmod(readonly, 0o555)
    if identity.is_root:
        subprocess.run(["chattr", "+i", readonly], check=True)
    try:
        result = build(identity, readonly / "image.sif", definition)
    finally:
        if identity.is_root:
            subprocess.run(["chattr", "-i", readonly], check=True)

    assert result.returncode == 255
    assert "Traceback" not in result.stderr and "FATAL:" in result.stderr
    assert not (readonly / "image.sif").exists()
