"""Every public reference image parses with exactly the fields its per-field listing
(sif-images/LISTING.txt) gives: v2 deterministic images, sif v1 layouts (Singularity 3.8.1
busybox images, a legacy signature) and SingularityCE's OCI-SIF."""

import ast
import datetime
import hashlib
import re
from pathlib import Path

import pytest

from jupytainer.runtime import sif
from jupytainer.runtime.sif import GO_ZERO_TIME, DataType, FsType, PartType
from sif_support import jupytainer_sif, siftool

FIELD = re.compile(r"(\w+)=(b'(?:[^'\\]|\\.)*'|\S+)")
TYPES = {"Deffile": DataType.DEFFILE, "GenericJSON": DataType.GENERIC_JSON,
         "Partition": DataType.PARTITION, "Signature": DataType.SIGNATURE,
         "OCIRootIndex": DataType.OCI_ROOT_INDEX, "OCIBlob": DataType.OCI_BLOB,
         "CryptoMessage": DataType.CRYPTO_MESSAGE, "SBOM": DataType.SBOM}
FSTYPES = {"Squashfs": FsType.SQUASHFS, "Raw": FsType.RAW, "Ext3": FsType.EXT3}
PARTTYPES = {"System": PartType.SYSTEM, "PrimSys": PartType.PRIMARY_SYSTEM}


def parse_listing(path: Path) -> dict[str, dict]:
    """LISTING.txt as {image name: {"header": fields, "objects": [fields, ...]}}."""
    images: dict[str, dict] = {}
    current: dict = {}
    for line in path.read_text().splitlines():
        fields = dict(FIELD.findall(line))
        if line.startswith("== "):
            current = images.setdefault(line.split()[1], {"header": {}, "objects": []})
        elif line.startswith("  ["):
            current["objects"].append(fields)
        else:
            current["header"].update(fields)
    return images


def listed_time(value: str) -> int:
    if value.startswith("ZERO"):
        return GO_ZERO_TIME
    if value.lstrip("-").isdigit():
        return int(value)
    return int(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def expected_link(value: str) -> tuple[int, bool]:
    return int(value.removesuffix("(G)")), value.endswith("(G)")


@pytest.fixture(scope="module")
def listing(shared_reference):
    return parse_listing(shared_reference / "sif-images" / "LISTING.txt")


def test_listing_names_every_shipped_image(listing, shared_reference):
    shipped = {path.name for path in (shared_reference / "sif-images").glob("*.sif")}
    assert set(listing) == shipped and len(shipped) == 15


def test_every_reference_image_has_the_listed_header(listing, shared_reference):
    for name, expected in listing.items():
        fields = expected["header"]
        with sif.load(shared_reference / "sif-images" / name) as image:
            header = image.header
            assert header.launch_script == ast.literal_eval(fields["launch"]), name
            assert header.arch_code == ast.literal_eval(fields["arch"]), name
            assert str(header.id) == fields["id"], name
            assert header.created_at == listed_time(fields["ctime"]), name
            assert header.modified_at == listed_time(fields["mtime"]), name
            assert (header.descriptors_free, header.descriptors_total) == (
                int(fields["free"]), int(fields["total"])), name
            assert (header.descriptors_offset, header.descriptors_size) == (
                int(fields["descoff"]), int(fields["descsize"])), name
            assert (header.data_offset, header.data_size) == (
                int(fields["dataoff"]), int(fields["datasize"])), name


def test_every_reference_object_has_the_listed_fields(listing, shared_reference):
    for name, expected in listing.items():
        with sif.load(shared_reference / "sif-images" / name) as image:
            assert len(image.objects) == len(expected["objects"]), name
            for descriptor, fields in zip(image.objects, expected["objects"]):
                check_common_fields(descriptor, fields)
                check_type_fields(descriptor, fields)


def check_common_fields(descriptor: sif.Descriptor, fields: dict) -> None:
    assert descriptor.id == int(fields["id"])
    assert descriptor.data_type == TYPES[fields["type"]]
    assert descriptor.raw_group_id == int(fields["rawgid"], 16)
    assert descriptor.group_id == (0 if fields["group"] == "NONE" else int(fields["group"]))
    assert (descriptor.linked_id, descriptor.link_is_group) == expected_link(fields["link"])
    assert (descriptor.offset, descriptor.size, descriptor.size_with_padding) == (
        int(fields["off"]), int(fields["size"]), int(fields["sizepad"]))
    assert descriptor.created_at == listed_time(fields["ctime"])
    assert descriptor.modified_at == listed_time(fields["mtime"])
    assert (descriptor.uid, descriptor.gid) == (int(fields["uid"]), int(fields["gid"]))
    assert descriptor.name == ast.literal_eval(fields["name"]).decode()


def check_type_fields(descriptor: sif.Descriptor, fields: dict) -> None:
    if "fs" in fields:
        assert descriptor.fstype == FSTYPES[fields["fs"]]
        assert descriptor.parttype == PARTTYPES[fields["pt"]]
        assert descriptor.arch_code == ast.literal_eval(fields["arch"])
    if "hash" in fields:
        assert descriptor.hash_type == int(fields["hash"])
        entity = bytes.fromhex(fields["entity"])
        assert descriptor.entity == (entity if any(entity) else None)
    if "fmt" in fields:
        assert descriptor.crypto_format == int(fields["fmt"])
        assert descriptor.crypto_message_type == int(fields["msg"], 16)
    if "sbomfmt" in fields:
        assert descriptor.sbom_format == int(fields["sbomfmt"])
    if "digest" in fields:
        assert descriptor.digest == fields["digest"]


def test_oci_objects_carry_the_sha256_of_their_data(shared_reference):
    for name in ("empty.oci.sif", "one-object-oci-blob.sif", "one-object-oci-root-index.sif"):
        with sif.load(shared_reference / "sif-images" / name) as image:
            data = image.read_bytes(image.objects[0])
            assert image.objects[0].digest == f"sha256:{hashlib.sha256(data).hexdigest()}"


@pytest.mark.parametrize("name, arch", [("busybox_amd64.sif", "amd64"),
                                        ("busybox_arm64.sif", "arm64")])
def test_singularity_v1_image_gives_its_primary_squashfs_and_definition(
        shared_reference, name, arch):
    with sif.load(shared_reference / "sif-images" / name) as image:
        assert image.header.arch == arch
        partition = image.primary_partition()
        assert (partition.fstype, partition.parttype, partition.arch) == (
            FsType.SQUASHFS, PartType.PRIMARY_SYSTEM, arch)
        with image.open_object(partition) as stream:
            assert stream.read(4) == b"hsqs"
            stream.seek(0)
            assert len(stream.read()) == partition.size
        deffile = image.find(data_type=DataType.DEFFILE)
        assert image.read_bytes(deffile) == b"BootStrap: docker\nFrom: busybox:1.33.1\n"
        assert image.find(name="oci-config.json").data_type == DataType.GENERIC_JSON
        assert image.find(name="no-such-object") is None


def test_object_stream_stays_readable_after_the_image_is_closed(shared_reference):
    with sif.load(shared_reference / "sif-images" / "one-group.sif") as image:
        stream = image.open_object(image.objects[0])
    assert stream.read() == b"\xfa\xce\xfe\xed"
    stream.close()


@pytest.mark.slow
def test_jupytainer_sif_prints_what_siftool_prints_for_every_reference_image(
        listing, shared_reference):
    """Except the two OCI types, which siftool 2.8.3 calls 'Unknown' without a digest."""
    for name, expected in listing.items():
        path = shared_reference / "sif-images" / name
        commands = [["list"], ["header"]] + [["info", str(n)] for n in
                                             range(1, len(expected["objects"]) + 1)]
        for command in commands:
            ours = jupytainer_sif(*command, path).stdout.decode()
            theirs = siftool(*command, path).stdout.decode()
            assert as_siftool_2_8_3(ours) == theirs, (name, command)


def as_siftool_2_8_3(output: str) -> str:
    output = re.sub(r"OCI\.(RootIndex|Blob)", "Unknown", output)
    return re.sub(r"  Digest: +sha256:[0-9a-f]+\n", "", output)
