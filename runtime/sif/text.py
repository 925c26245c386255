"""The text siftool prints for a header, an object list and one object, so that the output
of `jupytainer sif` reads exactly like the reference tool's."""

import datetime
import math
import uuid

from .constants import (GO_ZERO_TIME, CryptoFormat, CryptoMessageType, DataType, FsType,
                        HashType, PartType, SbomFormat)
from .structures import Descriptor, Header

RULE = "-" * 78

TYPE_LABELS = {
    DataType.DEFFILE: "Def.FILE", DataType.ENV_VARS: "Env.Vars",
    DataType.LABELS: "JSON.Labels", DataType.PARTITION: "FS",
    DataType.SIGNATURE: "Signature", DataType.GENERIC_JSON: "JSON.Generic",
    DataType.GENERIC: "Generic/Raw", DataType.CRYPTO_MESSAGE: "Cryptographic Message",
    DataType.SBOM: "SBOM", DataType.OCI_ROOT_INDEX: "OCI.RootIndex",
    DataType.OCI_BLOB: "OCI.Blob",
}
FS_LABELS = {FsType.SQUASHFS: "Squashfs", FsType.EXT3: "Ext3", FsType.IMMUTABLE_OBJECT: "Archive",
             FsType.RAW: "Raw", FsType.ENCRYPTED_SQUASHFS: "Encrypted squashfs"}
PART_LABELS = {PartType.SYSTEM: "System", PartType.PRIMARY_SYSTEM: "*System",
               PartType.DATA: "Data", PartType.OVERLAY: "Overlay"}
HASH_LABELS = {HashType.SHA256: "SHA-256", HashType.SHA384: "SHA-384",
               HashType.SHA512: "SHA-512", HashType.BLAKE2S_256: "BLAKE2s-256",
               HashType.BLAKE2B_256: "BLAKE2b-256"}
CRYPTO_FORMAT_LABELS = {CryptoFormat.OPENPGP: "OpenPGP", CryptoFormat.PEM: "PEM"}
CRYPTO_MESSAGE_LABELS = {CryptoMessageType.CLEAR_SIGNATURE: "Clear Signature",
                         CryptoMessageType.RSA_OAEP: "RSA-OAEP"}
SBOM_LABELS = {SbomFormat.CYCLONEDX_JSON: "cyclonedx-json",
               SbomFormat.CYCLONEDX_XML: "cyclonedx-xml", SbomFormat.GITHUB_JSON: "github-json",
               SbomFormat.SPDX_JSON: "spdx-json", SbomFormat.SPDX_RDF: "spdx-rdf",
               SbomFormat.SPDX_TAG_VALUE: "spdx-tag-value", SbomFormat.SPDX_YAML: "spdx-yaml",
               SbomFormat.SYFT_JSON: "syft-json"}


def label(table: dict, value: int | None, unknown: str = "Unknown") -> str:
    return table.get(value, unknown)


def readable_size(size: int) -> str:
    """'27 KiB' style sizes, rounded half away from zero like the reference tool."""
    if -1024 < size < 1024:
        return f"{size} B"
    divisor, exponent, quotient = 1024, 0, abs(size) // 1024
    while quotient >= 1024:
        divisor, exponent, quotient = divisor * 1024, exponent + 1, quotient // 1024
    scaled = abs(size) / divisor
    rounded = math.floor(scaled + 0.5) * (1 if size > 0 else -1)
    return f"{rounded} {'KMGTPE'[exponent]}iB"


def timestamp(seconds: int) -> str:
    """A stored time as Go prints a UTC time."""
    try:
        moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        # Limitation: Python dates end at year 9999; such times are shown as raw seconds.
        return f"@{seconds}"
    return f"{moment.year:04d}-{moment:%m-%d %H:%M:%S} +0000 UTC"


def _aligned(rows: list[tuple[str, str]], padding: int, indent: str = "") -> str:
    """Rows of 'label:' and value, values aligned one column like Go's tabwriter."""
    width = max(len(name) for name, _ in rows) + padding
    return "".join(f"{indent}{name:<{width}}{value}\n" for name, value in rows)


def header_text(header: Header) -> str:
    rows = []
    if header.launch_script:
        rows.append(("Launch Script:", _decoded(header.launch_script).removesuffix("\n")))
    rows.append(("Version:", _decoded(header.version.rstrip(b"\0"))))
    if header.arch != "unknown":
        rows.append(("Primary Architecture:", header.arch))
    if header.id != uuid.UUID(int=0):
        rows.append(("ID:", str(header.id)))
    rows += _times(header.created_at, header.modified_at)
    rows += [("Descriptors Free:", str(header.descriptors_free)),
             ("Descriptors Total:", str(header.descriptors_total)),
             ("Descriptors Offset:", str(header.descriptors_offset)),
             ("Descriptors Size:", readable_size(header.descriptors_size)),
             ("Data Offset:", str(header.data_offset)),
             ("Data Size:", readable_size(header.data_size))]
    return _aligned(rows, padding=1)


def list_text(objects: list[Descriptor]) -> str:
    lines = [RULE, f"{'ID':<4} {'|GROUP':<8} {'|LINK':<8} {'|SIF POSITION (start-end)':<26} "
             f"|TYPE", RULE]
    for descriptor in objects:
        position = f"|{descriptor.offset}-{descriptor.end} "
        lines.append(f"{descriptor.id:<4} |{_group(descriptor):<7} {_link_column(descriptor)} "
                     f"{position:<26} |{type_text(descriptor)}")
    return "\n".join(lines) + "\n"


def type_text(descriptor: Descriptor) -> str:
    """The TYPE column: the type, with its metadata in parentheses where it has some."""
    name = label(TYPE_LABELS, descriptor.data_type)
    kind = descriptor.raw_data_type
    if kind == DataType.PARTITION:
        return (f"{name} ({label(FS_LABELS, descriptor.fstype)}/"
                f"{label(PART_LABELS, descriptor.parttype)}/{descriptor.arch})")
    if kind == DataType.SIGNATURE:
        return f"{name} ({label(HASH_LABELS, descriptor.hash_type)})"
    if kind == DataType.CRYPTO_MESSAGE:
        return (f"{name} ({label(CRYPTO_FORMAT_LABELS, descriptor.crypto_format)}/"
                f"{label(CRYPTO_MESSAGE_LABELS, descriptor.crypto_message_type)})")
    if kind == DataType.SBOM:
        return f"{name} ({label(SBOM_LABELS, descriptor.sbom_format, 'unknown')})"
    return name


def info_text(descriptor: Descriptor) -> str:
    rows = [("Data Type:", label(TYPE_LABELS, descriptor.data_type)),
            ("ID:", str(descriptor.id)), ("Group ID:", _group(descriptor)),
            ("Linked ID:", _link(descriptor)), ("Offset:", str(descriptor.offset)),
            ("Size:", str(descriptor.size))]
    rows += _times(descriptor.created_at, descriptor.modified_at)
    if descriptor.name:
        rows.append(("Name:", descriptor.name))
    rows += _metadata_rows(descriptor)
    return _aligned(rows, padding=2, indent="  ")


def _metadata_rows(descriptor: Descriptor) -> list[tuple[str, str]]:
    kind = descriptor.raw_data_type
    if kind == DataType.PARTITION:
        return [("Filesystem Type:", label(FS_LABELS, descriptor.fstype)),
                ("Partition Type:", label(PART_LABELS, descriptor.parttype)),
                ("Architecture:", descriptor.arch)]
    if kind == DataType.SIGNATURE:
        rows = [("Hash Type:", label(HASH_LABELS, descriptor.hash_type))]
        if descriptor.entity:
            rows.append(("Entity:", descriptor.entity.hex().upper()))
        return rows
    if kind == DataType.CRYPTO_MESSAGE:
        return [("Format Type:", label(CRYPTO_FORMAT_LABELS, descriptor.crypto_format)),
                ("Message Type:", label(CRYPTO_MESSAGE_LABELS,
                                        descriptor.crypto_message_type))]
    if kind == DataType.SBOM:
        return [("Format:", label(SBOM_LABELS, descriptor.sbom_format, "unknown"))]
    if kind in (DataType.OCI_ROOT_INDEX, DataType.OCI_BLOB):
        return [("Digest:", descriptor.digest)]
    return []


def _times(created_at: int, modified_at: int) -> list[tuple[str, str]]:
    rows = []
    if created_at != GO_ZERO_TIME:
        rows.append(("Created At:", timestamp(created_at)))
    if modified_at != GO_ZERO_TIME:
        rows.append(("Modified At:", timestamp(modified_at)))
    return rows


def _group(descriptor: Descriptor) -> str:
    return str(descriptor.group_id) if descriptor.group_id else "NONE"


def _link(descriptor: Descriptor) -> str:
    if not descriptor.linked_id:
        return "NONE"
    return f"{descriptor.linked_id} (G)" if descriptor.link_is_group else str(descriptor.linked_id)


def _link_column(descriptor: Descriptor) -> str:
    if descriptor.linked_id and descriptor.link_is_group:
        return f"|{descriptor.linked_id:<3} (G)"
    return f"|{_link(descriptor):<7}"


def _decoded(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")
