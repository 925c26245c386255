"""Images from OCI layout directories, oci-archive and docker-archive tars (the archives
written by skopeo from layouts the tests make), and the errors of each source."""

import io
import json
import tarfile

import pytest

from oci_images import (Config, Layer, Layout, directory, failure, file, single_image, skopeo,
                        tar, unpack_as)

LAYERS = [Layer([directory("etc"), file("etc/base", "base"), file("etc/old", "old")]),
          Layer([file("etc/.wh.old"), file("etc/top", "top")], "zstd")]



def assert_unpacked(result, rootfs) -> None:
    assert result.returncode == 0, result.stderr
    assert (rootfs / "etc/base").read_text() + (rootfs / "etc/top").read_text() == "basetop"
    assert not (rootfs / "etc/old").exists()
    assert (rootfs / ".singularity.d/runscript").is_file()


def test_oci_layout_by_tag(identity):
    layout = Layout(identity.workdir / "layout")
    layout.tag(layout.image(LAYERS), "good").tag(layout.image([Layer([file("x")])]), "other")
    rootfs = identity.workdir / "rootfs"
    assert_unpacked(unpack_as(identity, f"oci:{layout.path}:good", rootfs), rootfs)


def test_oci_layout_with_several_images_needs_a_tag(identity):
    layout = Layout(identity.workdir / "layout")
    layout.tag(layout.image(LAYERS), "one").tag(layout.image([Layer([file("x")])]), "two")
    result = unpack_as(identity, f"oci:{layout.path}", identity.workdir / "rootfs")
    assert failure(result) == (f"the OCI layout {layout.path} holds 2 images: name one with "
                               f"the OCI layout {layout.path}:TAG (tags: one, two)")


def test_oci_layout_unknown_tag(identity):
    source = single_image(identity.workdir / "layout", LAYERS)
    result = unpack_as(identity, f"{source}:missing", identity.workdir / "rootfs")
    assert failure(result) == f"no image tagged 'missing' in the OCI layout {source[4:]}"


def test_a_directory_that_is_not_a_layout_is_named(identity):
    (identity.workdir / "plain").mkdir()
    result = unpack_as(identity, f"oci:{identity.workdir / 'plain'}", identity.workdir / "r")
    assert "is not an OCI image layout (it has no oci-layout file)" in failure(result)


def test_missing_source_and_unknown_transport(identity):
    result = unpack_as(identity, f"oci:{identity.workdir / 'absent'}", identity.workdir / "r")
    assert failure(result) == f"image source '{identity.workdir / 'absent'}' does not exist"
    result = unpack_as(identity, "library://alpine", identity.workdir / "r")
    assert failure(result) == ("unsupported image source 'library://alpine': use docker://, "
                               "oci:, oci-archive: or docker-archive:")


def test_oci_layout_index_chooses_platform(identity):
    layout = Layout(identity.workdir / "layout")
    amd = layout.image([Layer([file("arch", "amd64")])])
    arm = layout.image([Layer([file("arch", "arm64")])], Config(architecture="arm64"))
    layout.tag(layout.index([amd, arm]), "multi")
    rootfs = identity.workdir / "rootfs"
    result = unpack_as(identity, f"oci:{layout.path}:multi", rootfs, arch="arm64")
    assert result.returncode == 0, result.stderr
    assert (rootfs / "arch").read_text() == "arm64"


@pytest.fixture(scope="module")
def layout_for_archives(tmp_path_factory):
    """Docker's formats know no zstd: these layers are gzip and plain tar."""
    path = tmp_path_factory.mktemp("archives") / "layout"
    layout = Layout(path)
    layers = [LAYERS[0], Layer(LAYERS[1].entries, None)]
    layout.tag(layout.image(layers, Config(cmd=["run-me"])), "v1")
    return path


def readable(made):
    """skopeo writes archives only its user may read."""
    made.chmod(0o644)
    return made


def test_oci_archive(identity, layout_for_archives):
    archive = identity.workdir / "image.tar"
    skopeo("copy", "--quiet", f"oci:{layout_for_archives}:v1", f"oci-archive:{archive}:v1")
    rootfs = identity.workdir / "rootfs"
    assert_unpacked(unpack_as(identity, f"oci-archive:{readable(archive)}",
                              rootfs), rootfs)


def test_docker_archive(identity, layout_for_archives):
    archive = identity.workdir / "docker.tar"
    skopeo("copy", "--quiet", f"oci:{layout_for_archives}:v1",
           f"docker-archive:{archive}:tests/app:v1")
    rootfs = identity.workdir / "rootfs"
    result = unpack_as(identity, f"docker-archive:{readable(archive)}", rootfs)
    assert_unpacked(result, rootfs)
    assert json.loads(result.stdout)["cmd"] == ["run-me"]
    other = identity.workdir / "other"
    result = unpack_as(identity, f"docker-archive:{archive}:tests/app:v1", other)
    assert result.returncode == 0, result.stderr
    result = unpack_as(identity, f"docker-archive:{archive}:tests/app:v2", other)
    assert failure(result) == f"no image tagged 'tests/app:v2' in the docker archive {archive}"


def test_docker_archive_layer_not_matching_its_diff_id(identity, layout_for_archives):
    archive = identity.workdir / "docker.tar"
    skopeo("copy", "--quiet", f"oci:{layout_for_archives}:v1", f"docker-archive:{archive}")
    tampered = identity.workdir / "tampered.tar"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w") as target:
        manifest = json.loads(source.extractfile("manifest.json").read())
        first_layer = manifest[0]["Layers"][0]
        for member in source.getmembers():
            data = source.extractfile(member) if member.isreg() else None
            if member.name == first_layer:
                content = tar([file("etc/base", "evil")])
                member.size = len(content)
                data = io.BytesIO(content)
            target.addfile(member, data)
    result = unpack_as(identity, f"docker-archive:{readable(tampered)}",
                       identity.workdir / "rootfs")
    assert "layer 1/2" in failure(result) and "(uncompressed) is corrupt" in failure(result)
    assert not (identity.workdir / "rootfs").exists()


def test_a_file_that_is_not_an_archive_is_named(identity):
    junk = identity.workdir / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    result = unpack_as(identity, f"oci-archive:{junk}", identity.workdir / "rootfs")
    assert failure(result).startswith(f"cannot read the archive {junk}:")


def test_a_digest_that_is_not_a_digest_never_becomes_a_path(identity):
    layout = Layout(identity.workdir / "layout")
    (layout.path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": "sha256/../../../../etc/passwd", "size": 10}]}))
    result = unpack_as(identity, f"oci:{layout.path}", identity.workdir / "rootfs")
    assert failure(result).startswith("invalid digest in the OCI layout")


def test_an_archive_with_escaping_member_names_writes_nothing_outside(identity):
    layout = Layout(identity.workdir / "layout")
    layout.tag(layout.image(LAYERS), "v1")
    archive = identity.workdir / "hostile.tar"
    with tarfile.open(archive, "w") as target:
        target.add(layout.path, arcname=".")
        evil = tarfile.TarInfo("../../../escaped-from-archive")
        evil.size = 4
        target.addfile(evil, io.BytesIO(b"evil"))
    rootfs = identity.workdir / "rootfs"
    assert_unpacked(unpack_as(identity, f"oci-archive:{archive}", rootfs), rootfs)
    assert not list(identity.workdir.parent.glob("escaped-from-archive"))
    assert not (identity.workdir / "escaped-from-archive").exists()
