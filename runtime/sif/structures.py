"""The global header and the object descriptors: their fields, and their exact bytes.

Both keep every stored field, including the ones jupytainer does not interpret, so that a
record read and written back is byte for byte what it was. They are named tuples rather
than dataclasses because importing dataclasses would cost a container start more than
reading the file does.
"""

import collections
import struct
import uuid

from .constants import (DESCRIPTOR, GO_ZERO_TIME, GROUP_MASK, HEADER, MAGIC, VERSION,
                        CryptoFormat, CryptoMessageType, DataType, FsType,
                        HashType, PartType, SbomFormat, arch_name, known)

_PARTITION = struct.Struct("<ii3s")
_SIGNATURE = struct.Struct("<i256s")
_CRYPTO_MESSAGE = struct.Struct("<ii")
_SBOM = struct.Struct("<i")
FINGERPRINT_SIZE = 20


_HeaderFields = collections.namedtuple("_HeaderFields", [
    "launch_field", "arch_code", "id", "created_at", "modified_at", "descriptors_free",
    "descriptors_total", "descriptors_offset", "descriptors_size", "data_offset", "data_size",
    "magic", "version"], defaults=[MAGIC, VERSION])
_DescriptorFields = collections.namedtuple("_DescriptorFields", [
    "slot", "raw_data_type", "used", "id", "raw_group_id", "raw_linked_id", "offset", "size",
    "size_with_padding", "created_at", "modified_at", "uid", "gid", "raw_name", "extra"])


class Header(_HeaderFields):
    """The 128-byte global header, immutable: edits make a new one with `replace`.
    `arch` and `launch_script` are decoded views of raw fields."""

    __slots__ = ()

    @property
    def launch_script(self) -> bytes:
        return self.launch_field.rstrip(b"\0")

    @property
    def arch(self) -> str:
        return arch_name(self.arch_code)

    @property
    def is_deterministic(self) -> bool:
        """A nil ID and no times: later edits keep it so, as the reference library does."""
        return (self.id == uuid.UUID(int=0) and self.created_at == GO_ZERO_TIME
                and self.modified_at == GO_ZERO_TIME)

    def pack(self) -> bytes:
        return HEADER.pack(self.launch_field, self.magic, self.version, self.arch_code,
                           self.id.bytes, self.created_at, self.modified_at,
                           self.descriptors_free, self.descriptors_total,
                           self.descriptors_offset, self.descriptors_size, self.data_offset,
                           self.data_size)

    def replace(self, **changes) -> "Header":
        return self._replace(**changes)

    @classmethod
    def unpack(cls, raw: bytes) -> "Header":
        (launch, magic, version, arch, id_bytes, *numbers) = HEADER.unpack(raw)
        return cls(launch, arch, uuid.UUID(bytes=id_bytes), *numbers, magic=magic,
                   version=version)


class Descriptor(_DescriptorFields):
    """One 585-byte descriptor slot, immutable. Group and link IDs are stored with their
    mask bits; the properties give them as the reference tools show them."""

    __slots__ = ()

    def __repr__(self) -> str:
        kind = getattr(self.data_type, "name", hex(self.raw_data_type))
        return (f"<Descriptor id={self.id} {kind} group={self.group_id} offset={self.offset} "
                f"size={self.size} name={self.name!r}>")

    @classmethod
    def unpack(cls, slot: int, raw: bytes) -> "Descriptor":
        return cls(slot, *DESCRIPTOR.unpack(raw))

    @classmethod
    def unused(cls, slot: int) -> "Descriptor":
        return cls.unpack(slot, bytes(DESCRIPTOR.size))

    def pack(self) -> bytes:
        return DESCRIPTOR.pack(*self[1:])

    def replace(self, **changes) -> "Descriptor":
        return self._replace(**changes)

    @property
    def data_type(self) -> int:
        return known(DataType, self.raw_data_type)

    @property
    def group_id(self) -> int:
        """The group number; 0 when the object belongs to no group."""
        return self.raw_group_id & ~GROUP_MASK

    @property
    def linked_id(self) -> int:
        """The object or group this one is linked to; 0 for none."""
        return self.raw_linked_id & ~GROUP_MASK

    @property
    def link_is_group(self) -> bool:
        return self.raw_linked_id & GROUP_MASK == GROUP_MASK

    @property
    def name(self) -> str:
        return self.raw_name.rstrip(b"\0").decode("utf-8", errors="replace")

    @property
    def end(self) -> int:
        return self.offset + self.size

    def _extra_fields(self, data_type: DataType, layout: struct.Struct) -> tuple | None:
        if self.raw_data_type != data_type:
            return None
        return layout.unpack_from(self.extra)

    @property
    def fstype(self) -> int | None:
        fields = self._extra_fields(DataType.PARTITION, _PARTITION)
        return None if fields is None else known(FsType, fields[0])

    @property
    def parttype(self) -> int | None:
        fields = self._extra_fields(DataType.PARTITION, _PARTITION)
        return None if fields is None else known(PartType, fields[1])

    @property
    def arch_code(self) -> bytes | None:
        fields = self._extra_fields(DataType.PARTITION, _PARTITION)
        return None if fields is None else fields[2]

    @property
    def arch(self) -> str | None:
        code = self.arch_code
        return None if code is None else arch_name(code)

    @property
    def hash_type(self) -> int | None:
        fields = self._extra_fields(DataType.SIGNATURE, _SIGNATURE)
        return None if fields is None else known(HashType, fields[0])

    @property
    def entity(self) -> bytes | None:
        """The signer's fingerprint, or None when absent (all zero, as in DSSE signatures)."""
        fields = self._extra_fields(DataType.SIGNATURE, _SIGNATURE)
        if fields is None or not any(fields[1][:FINGERPRINT_SIZE]):
            return None
        return fields[1][:FINGERPRINT_SIZE]

    @property
    def crypto_format(self) -> int | None:
        fields = self._extra_fields(DataType.CRYPTO_MESSAGE, _CRYPTO_MESSAGE)
        return None if fields is None else known(CryptoFormat, fields[0])

    @property
    def crypto_message_type(self) -> int | None:
        fields = self._extra_fields(DataType.CRYPTO_MESSAGE, _CRYPTO_MESSAGE)
        return None if fields is None else known(CryptoMessageType, fields[1])

    @property
    def sbom_format(self) -> int | None:
        fields = self._extra_fields(DataType.SBOM, _SBOM)
        return None if fields is None else known(SbomFormat, fields[0])

    @property
    def digest(self) -> str | None:
        """The digest text stored with OCI objects, such as 'sha256:...'."""
        if self.raw_data_type not in (DataType.OCI_ROOT_INDEX, DataType.OCI_BLOB):
            return None
        return self.extra.rstrip(b"\0").decode("ascii", errors="replace")


def partition_extra(fstype: int, parttype: int, arch_code: bytes) -> bytes:
    return _PARTITION.pack(fstype, parttype, arch_code)


def signature_extra(hash_type: int, entity: bytes) -> bytes:
    return _SIGNATURE.pack(hash_type, entity)


def crypto_message_extra(format_type: int, message_type: int) -> bytes:
    return _CRYPTO_MESSAGE.pack(format_type, message_type)


def sbom_extra(sbom_format: int) -> bytes:
    return _SBOM.pack(sbom_format)


def padded(value: bytes, size: int, what: str) -> bytes:
    """value NUL-padded to a fixed field size; ValueError when it does not fit."""
    if len(value) > size:
        raise ValueError(f"{what} is {len(value)} bytes, more than the {size} a SIF allows")
    return value.ljust(size, b"\0")

