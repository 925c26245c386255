"""Builds that need no container at build time (scratch and busybox sources, `%setup`,
`%files`, metadata sections): what lands in the SIF or sandbox, and where."""

import hashlib
import json
import os
import subprocess

from build_support import (BUSYBOX_HEADER, build, built, objects, partition_bytes,
                           partition_file, partition_listing, write_definition)
from conftest import JUPYTAINER
from jupytainer.runtime.sif import DataType

METADATA = BUSYBOX_HEADER + """
%labels
    Author Ada Lovelace
    org.example.tabbed\tvalue
%help
    Converts units.
%environment
    export UNIT=metre
%runscript
    echo "running $@"
%startscript
    echo started
%test
    test -x /bin/busybox
"""


def test_sif_holds_definition_metadata_and_partition_in_order(identity):
    image = built(identity, METADATA)

    kinds = [(kind, name) for kind, name, _ in objects(image)]
    assert kinds == [(DataType.DEFFILE, ""), (DataType.GENERIC_JSON, "inspect-metadata.json"),
                     (DataType.PARTITION, "")]
    assert objects(image)[0][2] == (identity.workdir / "image.def").read_bytes()
    listed = subprocess.run(["siftool", "list", image], capture_output=True, text=True)
    assert listed.returncode == 0 and "Squashfs" in listed.stdout


def test_inspect_metadata_has_labels_scripts_help_and_environment(identity):
    image = built(identity, METADATA, "--notest")

    attributes = json.loads(objects(image)[1][2])["data"]["attributes"]
    assert attributes["labels"]["Author"] == "Ada Lovelace"
    assert attributes["labels"]["org.example.tabbed\tvalue"] == ""
    assert attributes["labels"]["org.label-schema.usage.singularity.deffile.bootstrap"] \
        == "busybox"
    assert attributes["runscript"] == '#!/bin/sh\n\necho "running $@"'
    assert attributes["helpfile"] == "    Converts units."
    assert "export UNIT=metre" in \
        attributes["environment"]["/.singularity.d/env/90-environment.sh"]
    assert attributes["deffile"] == (identity.workdir / "image.def").read_text().rstrip("\n")
    inspected = identity.jupytainer("inspect", "--all", image)
    assert json.loads(inspected.stdout)["data"]["attributes"] == attributes


def test_image_has_apptainer_base_layout(identity):
    image = built(identity, METADATA, "--notest")

    listing = partition_listing(image)
    for entry in ("/.singularity.d/actions/exec", "/.singularity.d/env/90-environment.sh",
                  "/.singularity.d/env/99-base.sh", "/.singularity.d/startscript",
                  "/.singularity.d/test", "/.singularity.d/runscript.help",
                  "/etc/resolv.conf", "/bin/sh -> busybox", "/singularity -> "
                  ".singularity.d/runscript", "/environment -> "
                  ".singularity.d/env/90-environment.sh"):
        assert "squashfs-root" + entry in listing, entry
    assert "drwxr-xr-x root/root" in listing.splitlines()[0]
    assert {line.split()[1] for line in listing.splitlines() if line} == {"root/root"}
    labels = json.loads(partition_file(image, "/.singularity.d/labels.json"))
    assert labels["org.label-schema.schema-version"] == "1.0"
    assert partition_file(image, "/.singularity.d/labels.json").startswith('{\n\t"')


def test_setup_runs_on_the_host_with_the_rootfs_path(identity):
    image = built(identity, """
        Bootstrap: scratch
        %setup
            echo "from setup" > "$APPTAINER_ROOTFS/setup.txt"
            test "$SINGULARITY_ROOTFS" = "$APPTAINER_ROOTFS"
        """)

    assert partition_file(image, "/setup.txt") == "from setup\n"


def test_files_copies_globs_quoted_names_and_creates_parents(identity):
    data = identity.workdir / "data"
    data.mkdir()
    for name in ("a.csv", "b.csv", "notes.txt", "with space.txt"):
        (data / name).write_text(name)
    (data / "link.txt").symlink_to("notes.txt")
    subprocess.run(["chown", "-R", f"{identity.uid}:{identity.gid}", data], check=True)

    image = built(identity, """
        Bootstrap: scratch
        %files
            data/*.csv /deep/new/dir/
            "data/with space.txt" "/opt/with space.txt"
            data/link.txt
        """)

    assert partition_file(image, "/deep/new/dir/a.csv") == "a.csv"
    assert partition_file(image, "/deep/new/dir/b.csv") == "b.csv"
    assert partition_file(image, "/opt/with space.txt") == "with space.txt"
    assert partition_file(image, "/data/link.txt") == "notes.txt"
    assert "squashfs-root/data/link.txt ->" not in partition_listing(image)


def test_files_cannot_escape_the_rootfs_through_a_link(identity):
    (identity.workdir / "payload").write_text("payload")
    identity.make_owned(identity.workdir / "payload")
    outside = identity.workdir / "outside"
    outside.mkdir()
    identity.make_owned(outside)

    image = built(identity, f"""
        Bootstrap: scratch
        %setup
            ln -s {outside} "$APPTAINER_ROOTFS/escape"
        %files
            payload /escape/payload
        """)

    assert not (outside / "payload").exists()
    assert partition_file(image, f"{outside}/payload") == "payload"


def test_sandbox_output_is_a_directory_with_the_same_layout(identity):
    sandbox = built(identity, METADATA, "--sandbox", "--notest", target="sandbox")

    assert (sandbox / ".singularity.d/runscript").read_text().startswith("#!/bin/sh")
    assert (sandbox / "bin/busybox").is_file()
    assert not [name for name in os.listdir(identity.workdir) if ".jupytainer-" in name]


def test_section_limits_what_runs(identity):
    image = built(identity, """
        Bootstrap: scratch
        %setup
            touch "$APPTAINER_ROOTFS/setup-ran"
        %labels
            Skipped yes
        %runscript
            echo custom
        """, "--section", "setup,runscript")

    assert "squashfs-root/setup-ran" in partition_listing(image)
    assert "custom" in partition_file(image, "/.singularity.d/runscript")
    assert "Skipped" not in json.loads(objects(image)[1][2])["data"]["attributes"].get(
        "labels", {})


def test_force_replaces_an_existing_target(identity):
    definition = write_definition(identity, "Bootstrap: scratch\n")
    target = identity.workdir / "image.sif"
    target.write_text("old")
    identity.make_owned(target)

    refused = build(identity, target, definition)
    forced = build(identity, target, definition, "--force")

    assert refused.returncode == 255
    assert "build target" in refused.stderr and "Use --force" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    assert target.read_bytes()[32:41] == b"SIF_MAGIC"


def test_source_date_epoch_makes_builds_reproducible(identity):
    text = METADATA.replace("%help", "%files\n    image.def /opt/image.def\n%setup\n"
                            "    touch -d @1000000000 \"$APPTAINER_ROOTFS/old\"\n%help")
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    first = built(identity, text, "--notest", target="first.sif", env=env)
    second = built(identity, text, "--notest", target="second.sif", env=env)

    digests = {hashlib.sha256(path.read_bytes()).hexdigest() for path in (first, second)}
    assert len(digests) == 1
    labels = json.loads(objects(first)[1][2])["data"]["attributes"]["labels"]
    assert labels["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    times = {line.split()[-1]: " ".join(line.split()[3:5])
             for line in partition_listing(first).splitlines() if line}
    assert times["squashfs-root/old"].startswith("2001-09-09")
    assert times["squashfs-root/opt/image.def"].startswith("2023-11-14")


def test_sif_to_sandbox_to_sif_keeps_the_image(identity):
    first = built(identity, METADATA, "--notest")
    sandbox = identity.workdir / "sandbox"
    again = identity.workdir / "again.sif"

    to_sandbox = build(identity, sandbox, first, "--sandbox")
    to_sif = build(identity, again, sandbox)

    assert to_sandbox.returncode == 0, to_sandbox.stderr
    assert to_sif.returncode == 0, to_sif.stderr
    assert "Converts units." in (sandbox / ".singularity.d/runscript.help").read_text()
    assert objects(again)[0][2] == objects(first)[0][2]
    assert partition_file(again, "/.singularity.d/labels.json") == \
        partition_file(first, "/.singularity.d/labels.json")


def test_progress_names_each_step_and_ends_with_a_summary(identity):
    definition = write_definition(identity, METADATA)
    result = build(identity, identity.workdir / "image.sif", definition, "--notest")

    lines = [line for line in result.stderr.splitlines() if line.startswith("INFO:")]
    assert lines[0] == "INFO:    Starting build..."
    for expected in ("Downloading file:///bin/busybox", "Inserting Apptainer configuration...",
                     "Adding help info", "Adding labels", "Adding environment to container",
                     "Adding runscript", "Creating SIF file..."):
        assert f"INFO:    {expected}" in lines
    assert lines[-1].startswith(f"INFO:    Build complete: {identity.workdir}/image.sif (SIF, ")


def test_stages_copy_globs_and_keep_inner_links(identity):
    definition = write_definition(identity, """
        Bootstrap: scratch
        Stage: one
        %setup
            mkdir -p "$APPTAINER_ROOTFS/out/tool" "$APPTAINER_ROOTFS/logs"
            echo v1 > "$APPTAINER_ROOTFS/out/tool/tool-1.0"
            ln -s tool-1.0 "$APPTAINER_ROOTFS/out/tool/tool"
            echo a > "$APPTAINER_ROOTFS/logs/a.log"
            echo b > "$APPTAINER_ROOTFS/logs/b.log"

        Bootstrap: scratch
        Stage: two
        %files from one
            /out/tool
            /logs/*.log /collected/
        """)
    result = build(identity, identity.workdir / "image.sif", definition)
    image = identity.workdir / "image.sif"

    assert result.returncode == 0, result.stderr
    assert "INFO:    Stage 1/2: one (Bootstrap: scratch)" in result.stderr
    assert "INFO:    Stage 2/2: two (Bootstrap: scratch)" in result.stderr
    listing = partition_listing(image)
    assert "squashfs-root/out/tool/tool -> tool-1.0" in listing
    assert partition_file(image, "/collected/b.log") == "b\n"
    assert "squashfs-root/logs" not in listing


def test_labels_do_not_replace_build_labels_unless_forced(identity):
    text = "Bootstrap: scratch\n%labels\n    org.label-schema.schema-version 9.9\n"
    definition = write_definition(identity, text)
    target = identity.workdir / "image.sif"

    kept = build(identity, target, definition)
    kept_labels = json.loads(partition_file(target, "/.singularity.d/labels.json"))
    forced = build(identity, target, definition, "--force")
    forced_labels = json.loads(partition_file(target, "/.singularity.d/labels.json"))

    assert "WARNING: Label: org.label-schema.schema-version already exists" in kept.stderr
    assert kept_labels["org.label-schema.schema-version"] == "1.0"
    assert forced.returncode == 0, forced.stderr
    assert forced_labels["org.label-schema.schema-version"] == "9.9"


def test_existing_target_is_replaced_only_when_confirmed_on_a_terminal(identity):
    definition = write_definition(identity, "Bootstrap: scratch\n")
    target = identity.workdir / "image.sif"
    target.write_text("old")
    identity.make_owned(target)
    command = f"{JUPYTAINER} build {target} {definition}"

    declined = identity.run(["script", "-qec", command, "/dev/null"], input="n\n")
    kept = target.read_text()
    accepted = identity.run(["script", "-qec", command, "/dev/null"], input="y\n")

    assert "already exists and will be deleted" in declined.stdout
    assert declined.returncode == 255 and kept == "old"
    assert accepted.returncode == 0, accepted.stdout
    assert target.read_bytes()[32:41] == b"SIF_MAGIC"


def test_definition_is_stored_byte_for_byte(identity):
    raw = "\ufeff# a comment first\r\nBootstrap: scratch\r\n\r\n%runscript\r\n\techo hi".encode()
    definition = identity.workdir / "crlf.def"
    definition.write_bytes(raw)
    identity.make_owned(definition)

    result = build(identity, identity.workdir / "image.sif", definition)
    image = identity.workdir / "image.sif"

    assert result.returncode == 0, result.stderr
    assert objects(image)[0][2] == raw
    assert partition_bytes(image, "/.singularity.d/Singularity") == raw


def test_pre_runs_on_the_host_before_the_bootstrap(identity):
    image = built(identity, """
        Bootstrap: scratch
        %pre
            test -z "$(ls -A "$APPTAINER_ROOTFS")"
            touch "$APPTAINER_ROOTFS/pre-ran"
        """)

    assert "squashfs-root/pre-ran" in partition_listing(image)


def test_builds_with_an_ordinary_users_path(identity):
    """Debian gives ordinary users a PATH without the sbin folders, where chroot and
    debootstrap live; a build runs them as root would, so it finds them there too."""
    image = built(identity, BUSYBOX_HEADER + "%post\n    touch /made\n",
                  env={"PATH": "/usr/local/bin:/usr/bin:/bin"})

    assert "squashfs-root/made" in partition_listing(image)
