"""The numbers and sizes of the SIF format (spec version 01), as the reference library uses them.

Unknown codes met in a file are kept as plain ints, so that they round-trip untouched.
"""

import enum
import struct

MAGIC = b"SIF_MAGIC\0"
VERSION = b"01\0"

HEADER = struct.Struct("<32s10s3s3s16s8q")
DESCRIPTOR = struct.Struct("<i?IIIqqqqqqq128s384s")
LAUNCH_SCRIPT_SIZE = 32
NAME_SIZE = 128
EXTRA_SIZE = 384

DEFAULT_DESCRIPTORS_OFFSET = 4096
DEFAULT_DESCRIPTORS_TOTAL = 48
PARTITION_ALIGNMENT = 4096

# Raw group and link IDs carry this mask; a raw group ID of exactly the mask means "no group".
GROUP_MASK = 0xF0000000
DEFAULT_GROUP = 1

# The Go zero time (0001-01-01T00:00:00Z): what deterministic images store for "no time".
GO_ZERO_TIME = -62135596800


class DataType(enum.IntEnum):
    DEFFILE = 0x4001
    ENV_VARS = 0x4002
    LABELS = 0x4003
    PARTITION = 0x4004
    SIGNATURE = 0x4005
    GENERIC_JSON = 0x4006
    GENERIC = 0x4007
    CRYPTO_MESSAGE = 0x4008
    SBOM = 0x4009
    OCI_ROOT_INDEX = 0x400A
    OCI_BLOB = 0x400B


class FsType(enum.IntEnum):
    SQUASHFS = 1
    EXT3 = 2
    IMMUTABLE_OBJECT = 3
    RAW = 4
    ENCRYPTED_SQUASHFS = 5
    GOCRYPTFS_SQUASHFS = 6


class PartType(enum.IntEnum):
    SYSTEM = 1
    PRIMARY_SYSTEM = 2
    DATA = 3
    OVERLAY = 4


class HashType(enum.IntEnum):
    SHA256 = 1
    SHA384 = 2
    SHA512 = 3
    BLAKE2S_256 = 4
    BLAKE2B_256 = 5


class CryptoFormat(enum.IntEnum):
    OPENPGP = 1
    PEM = 2


class CryptoMessageType(enum.IntEnum):
    CLEAR_SIGNATURE = 0x100
    RSA_OAEP = 0x200


class SbomFormat(enum.IntEnum):
    CYCLONEDX_JSON = 1
    CYCLONEDX_XML = 2
    GITHUB_JSON = 3
    SPDX_JSON = 4
    SPDX_RDF = 5
    SPDX_TAG_VALUE = 6
    SPDX_YAML = 7
    SYFT_JSON = 8


# Architecture code stored in the header and in partitions -> Go GOARCH name.
ARCH_NAMES = {
    b"00\0": "unknown", b"01\0": "386", b"02\0": "amd64", b"03\0": "arm", b"04\0": "arm64",
    b"05\0": "ppc64", b"06\0": "ppc64le", b"07\0": "mips", b"08\0": "mipsle",
    b"09\0": "mips64", b"10\0": "mips64le", b"11\0": "s390x", b"12\0": "riscv64",
    b"13\0": "loong64",
}
ARCH_CODES = {name: code for code, name in ARCH_NAMES.items()}
UNKNOWN_ARCH = b"00\0"


def known(enum_type: type[enum.IntEnum], value: int) -> int:
    """value as a member of enum_type when it is one, else the plain int (kept as found)."""
    try:
        return enum_type(value)
    except ValueError:
        return value


def arch_name(code: bytes) -> str:
    """The GOARCH name of a stored architecture code; 'unknown' for codes we do not know."""
    return ARCH_NAMES.get(code, "unknown")

