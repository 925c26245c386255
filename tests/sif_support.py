"""Helpers shared by the SIF tests: the reference images' inputs as object lists, siftool,
and small builders of images."""

import subprocess
from pathlib import Path

from jupytainer.runtime import sif
from jupytainer.runtime.sif import (CryptoFormat, CryptoMessageInfo, CryptoMessageType,
                                    DataType, FsType, ObjectInput, PartitionInfo, PartType,
                                    SbomFormat)

SYSTEM_386 = PartitionInfo(FsType.RAW, PartType.SYSTEM, "386")
PRIMARY_386 = PartitionInfo(FsType.SQUASHFS, PartType.PRIMARY_SYSTEM, "386")
EXT3_AMD64 = PartitionInfo(FsType.EXT3, PartType.SYSTEM, "amd64")


def one_group(inputs: Path) -> list[ObjectInput]:
    return [ObjectInput(DataType.PARTITION, b"\xfa\xce\xfe\xed", partition=SYSTEM_386),
            ObjectInput(DataType.PARTITION, inputs / "root.squashfs", partition=PRIMARY_386)]


def deterministic_images(inputs: Path) -> dict[str, tuple[dict, list[ObjectInput]]]:
    """Each unsigned v2 reference image: the create options and the objects it holds."""
    deterministic = {"deterministic": True}
    return {
        "empty.sif": (deterministic, []),
        "empty-launch-script.sif": (
            {"deterministic": True, "launch_script": b"#!/usr/bin/env run-script\n"}, []),
        "one-object-time.sif": (
            {"deterministic": True, "created_at": 1593475316},
            [ObjectInput(DataType.GENERIC_JSON, b"{}", name="data.json")]),
        "one-object-crypt-message.sif": (deterministic, [ObjectInput(
            DataType.CRYPTO_MESSAGE, b"\xfe\xfe\xf0\xf0", crypto_message=CryptoMessageInfo(
                CryptoFormat.OPENPGP, CryptoMessageType.CLEAR_SIGNATURE))]),
        "one-object-sbom.sif": (deterministic, [ObjectInput(
            DataType.SBOM, inputs / "sbom.cdx.json", sbom_format=SbomFormat.CYCLONEDX_JSON)]),
        "one-object-oci-root-index.sif": (deterministic, [
            ObjectInput(DataType.OCI_ROOT_INDEX, inputs / "index.json")]),
        "one-object-oci-blob.sif": (deterministic, [
            ObjectInput(DataType.OCI_BLOB, inputs / "oci-config.json")]),
        "one-group.sif": (deterministic, one_group(inputs)),
        "two-groups.sif": (deterministic, one_group(inputs) + [ObjectInput(
            DataType.PARTITION, inputs / "root.ext3", group_id=2, partition=EXT3_AMD64)]),
    }


def build(path: Path, options: dict, objects: list[ObjectInput]) -> Path:
    def add_all(image: sif.SifFile) -> None:
        for obj in objects:
            image.add_object(obj)
    sif.write_atomically(path, add_all, **options)
    return path


def siftool(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the reference tool, capturing bytes."""
    return subprocess.run(["siftool", *[str(arg) for arg in args]], capture_output=True,
                          check=check)


def jupytainer_sif(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the installed `jupytainer sif`, capturing bytes."""
    from conftest import JUPYTAINER
    return subprocess.run([str(JUPYTAINER), "sif", *[str(arg) for arg in args]],
                          capture_output=True, check=check)


def without_times(image: bytes) -> bytes:
    """image with the header's and every descriptor's time stamps blanked, to compare two
    files written a second apart."""
    header = sif.Header.unpack(image[:128])
    blanked = bytearray(image)
    blanked[64:80] = bytes(16)
    for slot in range(header.descriptors_total):
        start = header.descriptors_offset + slot * 585
        blanked[start + 41:start + 57] = bytes(16)
    return bytes(blanked)
