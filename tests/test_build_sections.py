"""Sections that run inside the image being built (`%post`, `%test`, `%appinstall`) and what
the finished image does with the rest (`%environment`, `%runscript`, SCIF apps), as root
and as an unprivileged user (root in a user namespace)."""

import json
import textwrap

from build_support import BUSYBOX_HEADER, build, built, objects, partition_file, \
    partition_listing, write_definition

POST = BUSYBOX_HEADER + """
%post
    echo "uid $(id -u) in $(pwd)" > /post.txt
    echo "from.post yes" >> "$APPTAINER_LABELS"
    echo 'export FROM_POST=set-in-post' >> "$APPTAINER_ENVIRONMENT"
%environment
    export UNIT=metre
%runscript
    echo "runscript got $*"
"""

APPS = BUSYBOX_HEADER + """
%apprun convert
    echo "converted $1 in $SCIF_APPNAME"
%applabels convert
    Purpose unit conversion
%appenv convert
    export FACTOR=1000
%apphelp convert
    Converts kilometres to metres.
%appinstall convert
    echo installed > installed.txt
%apprun other
    echo other
"""


def test_post_runs_as_root_in_the_image(identity):
    image = built(identity, POST)

    assert partition_file(image, "/post.txt") == "uid 0 in /\n"
    labels = json.loads(partition_file(image, "/.singularity.d/labels.json"))
    assert labels["from.post"] == "yes"
    assert "FROM_POST=set-in-post" in partition_file(
        image, "/.singularity.d/env/91-environment.sh")
    listing = partition_listing(image)
    assert ".post.script" not in listing and ".build.labels" not in listing


def test_post_output_is_streamed_with_the_section_named(identity):
    definition = write_definition(identity, BUSYBOX_HEADER + "%post\n    echo hello-from-post\n")
    result = build(identity, identity.workdir / "image.sif", definition)

    assert result.returncode == 0, result.stderr
    assert "hello-from-post" in result.stdout
    assert result.stderr.index("INFO:    Running post scriptlet") < \
        result.stderr.index("+ echo hello-from-post")


def test_post_with_another_interpreter(identity):
    image = built(identity, BUSYBOX_HEADER + textwrap.dedent("""
        %post -c /bin/ash
            tr '\\0' ' ' < /proc/$$/cmdline > /interpreter.txt
        """))

    assert partition_file(image, "/interpreter.txt").startswith("/bin/ash /.post.script")


def test_built_image_runs_with_its_environment_and_runscript(identity):
    image = built(identity, POST)

    ran = identity.jupytainer("run", image, "a", "b")
    env = identity.jupytainer("exec", image, "sh", "-c", 'echo "$UNIT $FROM_POST"')

    assert ran.stdout == "runscript got a b\n", ran.stderr
    assert env.stdout == "metre set-in-post\n", env.stderr


def test_test_section_runs_after_the_build_unless_notest(identity):
    text = BUSYBOX_HEADER + "%test\n    echo test-section-ran\n    exit 5\n"
    definition = write_definition(identity, text)

    failed = build(identity, identity.workdir / "image.sif", definition)
    skipped = build(identity, identity.workdir / "image.sif", definition, "--notest")

    assert failed.returncode == 255 and "test-section-ran" in failed.stdout
    assert skipped.returncode == 0, skipped.stderr
    assert "test-section-ran" not in skipped.stdout
    assert "exit 5" in partition_file(identity.workdir / "image.sif", "/.singularity.d/test")


def test_apps_run_with_their_own_environment(identity):
    image = built(identity, APPS)

    converted = identity.jupytainer("run", "--app", "convert", image, "1.25")
    factor = identity.jupytainer("exec", "--app", "convert", image, "sh", "-c", "echo $FACTOR")

    assert converted.stdout == "converted 1.25 in convert\n", converted.stderr
    assert factor.stdout == "1000\n", factor.stderr
    assert partition_file(image, "/scif/apps/convert/installed.txt") == "installed\n"
    apps = json.loads(objects(image)[1][2])["data"]["attributes"]["apps"]
    assert set(apps) == {"convert", "other"}
    assert apps["convert"]["labels"]["Purpose"] == "unit conversion"
    assert "Converts kilometres" in apps["convert"]["helpfile"]
    assert "SCIF_APPRUN_convert" in partition_file(image, "/.singularity.d/env/94-appsbase.sh")


def test_build_args_fill_placeholders_and_the_templated_text_is_stored(identity):
    image = built(identity, BUSYBOX_HEADER + textwrap.dedent("""
        %arguments
            WHO=world
        %runscript
            echo "hello {{ WHO }}"
        """), "--build-arg", "WHO=you", "--build-arg", "UNUSED=1", "--warn-unused-build-args")

    assert 'echo "hello you"' in partition_file(image, "/.singularity.d/runscript")
    assert b'echo "hello you"' in objects(image)[0][2]


def test_update_runs_sections_on_an_existing_sandbox(identity):
    sandbox = built(identity, POST, "--sandbox", target="sandbox")
    (identity.workdir / "more.def").write_text(
        "Bootstrap: scratch\n%post\n    echo more > /more.txt\n")

    result = build(identity, sandbox, identity.workdir / "more.def", "--sandbox", "--update")

    assert result.returncode == 0, result.stderr
    assert (sandbox / "more.txt").read_text() == "more\n"
    assert (sandbox / "post.txt").read_text() == "uid 0 in /\n"
    assert (sandbox / ".singularity.d/bootstrap_history/Apptainer0").is_file()


def test_bind_reaches_post(identity):
    shared = identity.workdir / "shared"
    shared.mkdir()
    (shared / "input.txt").write_text("bound in\n")
    image = built(identity, BUSYBOX_HEADER + "%post\n    cp /mnt/shared/input.txt /copied\n",
                  "--bind", f"{shared}:/mnt/shared")

    assert partition_file(image, "/copied") == "bound in\n"


def test_fix_perms_opens_directories_to_their_owner(identity):
    sandbox = built(identity, BUSYBOX_HEADER + "%post\n    mkdir /locked\n    chmod 000 /locked\n",
                    "--sandbox", "--fix-perms", target="sandbox")

    assert (sandbox / "locked").stat().st_mode & 0o700 == 0o700


def test_localimage_builds_on_an_earlier_image_and_keeps_its_history(identity):
    base = built(identity, POST, target="base.sif")
    definition = write_definition(identity, f"""
        Bootstrap: localimage
        From: {base}
        Fingerprints: 0123456789ABCDEF
        %post
            echo layered > /layered.txt
        """, name="layered.def")

    result = build(identity, identity.workdir / "layered.sif", definition)
    layered = identity.workdir / "layered.sif"

    assert result.returncode == 0, result.stderr
    assert "WARNING: Fingerprints: jupytainer does not verify SIF signatures" in result.stderr
    assert partition_file(layered, "/post.txt") == "uid 0 in /\n"
    assert partition_file(layered, "/layered.txt") == "layered\n"
    assert "Bootstrap: busybox" in partition_file(
        layered, "/.singularity.d/bootstrap_history/Apptainer0")
    assert "Bootstrap: localimage" in partition_file(layered, "/.singularity.d/Singularity")
