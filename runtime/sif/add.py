"""Adding an object: its data goes after the last object (aligned), its descriptor into the
first free slot, and the header's counters follow."""

import dataclasses
import errno
import hashlib
import io
import os
import stat
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from .constants import (ARCH_CODES, DEFAULT_GROUP, EXTRA_SIZE, GROUP_MASK, NAME_SIZE,
                        PARTITION_ALIGNMENT, DataType, PartType)
from .errors import SifError, reason
from .select import primary_partitions
from .structures import (FINGERPRINT_SIZE, Descriptor, crypto_message_extra, padded,
                         partition_extra, sbom_extra, signature_extra)

if TYPE_CHECKING:
    from .image import SifFile

CHUNK = 1 << 20
OCI_TYPES = (DataType.OCI_ROOT_INDEX, DataType.OCI_BLOB)
MAX_GROUP = ~GROUP_MASK & 0xFFFFFFFF
UNSUPPORTED = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}


@dataclass(frozen=True)
class PartitionInfo:
    """A partition's filesystem, role and architecture (a GOARCH name such as 'amd64')."""

    fstype: int
    parttype: int
    arch: str


@dataclass(frozen=True)
class SignatureInfo:
    """A signature's hash type and the signer's 20-byte fingerprint (empty for none)."""

    hash_type: int
    entity: bytes = b""


@dataclass(frozen=True)
class CryptoMessageInfo:
    format_type: int
    message_type: int


@dataclass(frozen=True)
class LinkTo:
    """A link to another object's ID, or with group=True to a group."""

    id: int
    group: bool = False

    @property
    def raw(self) -> int:
        return self.id | GROUP_MASK if self.group else self.id


@dataclass(frozen=True)
class ObjectInput:
    """What to add. data is bytes, a readable binary file object (read to its end, in
    chunks) or a path. group_id=None puts the object in no group. alignment=None means the
    format's rule: 4096 for partitions, none otherwise. `extra` gives the raw 384-byte
    metadata for types this module has no fields for."""

    data_type: int
    data: bytes | BinaryIO | str | os.PathLike
    name: str = ""
    group_id: int | None = DEFAULT_GROUP
    link: LinkTo | None = None
    alignment: int | None = None
    partition: PartitionInfo | None = None
    signature: SignatureInfo | None = None
    crypto_message: CryptoMessageInfo | None = None
    sbom_format: int | None = None
    extra: bytes | None = None


def add_object(sif: "SifFile", obj: ObjectInput) -> Descriptor:
    """Write obj's data and descriptor; on failure the file is left as it was."""
    if isinstance(obj.data, (str, os.PathLike)):
        try:
            source = open(obj.data, "rb")
        except OSError as failure:
            raise SifError(f"cannot read {obj.data}: {reason(failure)}") from failure
        with source:
            return add_object(sif, dataclasses.replace(obj, data=source))

    sif.require_writable()
    slot = _free_slot(sif)
    fields = _descriptor_fields(sif, obj)
    alignment = _alignment(sif, obj)

    start = _data_end(sif)
    offset = next_aligned(start, alignment)
    saved_header = sif.header
    original_size = os.fstat(sif.fileno()).st_size
    try:
        size, digest = _write_data(sif, obj, start, offset)
        if digest:
            fields["extra"] = padded(f"sha256:{digest}".encode(), EXTRA_SIZE, "digest")
        stamp = sif.now()
        descriptor = Descriptor(slot, obj.data_type, True, slot + 1, offset=offset, size=size,
                                size_with_padding=offset - start + size, created_at=stamp,
                                modified_at=stamp, uid=0, gid=0, **fields)
        _update_header(sif, descriptor, stamp)
        sif.store(descriptor)
    except BaseException:
        sif.header = saved_header
        os.ftruncate(sif.fileno(), original_size)
        raise
    return descriptor


def next_aligned(offset: int, alignment: int) -> int:
    """The reference writer's rule: exact for powers of two, and kept for other values
    (which it rounds with a bit mask) so that both tools place objects alike."""
    if alignment == 0 or offset % alignment == 0:
        return offset
    return (offset & ~(alignment - 1)) + alignment


def _free_slot(sif: "SifFile") -> int:
    for descriptor in sif.slots:
        if not descriptor.used:
            return descriptor.slot
    raise SifError(f"{sif.path}: all {sif.header.descriptors_total} descriptor slots are "
                   f"used, no room for another object (delete one, or rebuild the image)")


def _alignment(sif: "SifFile", obj: ObjectInput) -> int:
    if obj.alignment is None:
        return PARTITION_ALIGNMENT if obj.data_type == DataType.PARTITION else 0
    if obj.alignment < 0:
        raise SifError(f"cannot add to {sif.path}: alignment {obj.alignment} is negative")
    return obj.alignment


def _descriptor_fields(sif: "SifFile", obj: ObjectInput) -> dict:
    """The descriptor fields that come from obj alone, checked before any byte is written."""
    try:
        struct.pack("<i", obj.data_type)
        name = padded(obj.name.encode(), NAME_SIZE, "the object name")
        extra = padded(_extra(sif, obj), EXTRA_SIZE, "the object metadata")
    except (ValueError, struct.error) as problem:
        raise SifError(f"cannot add to {sif.path}: {problem}") from None
    if obj.link is not None and not 0 < obj.link.id <= MAX_GROUP:
        raise SifError(f"cannot add to {sif.path}: invalid link to ID {obj.link.id}")
    return {"raw_group_id": _raw_group(sif, obj), "raw_linked_id": obj.link.raw if obj.link
            else 0, "raw_name": name, "extra": extra}


def _raw_group(sif: "SifFile", obj: ObjectInput) -> int:
    if obj.group_id is None:
        return GROUP_MASK
    if not 0 < obj.group_id <= MAX_GROUP:
        raise SifError(f"cannot add to {sif.path}: invalid group ID {obj.group_id}: groups "
                       f"are 1 to {MAX_GROUP} (None for no group)")
    return obj.group_id | GROUP_MASK


def _extra(sif: "SifFile", obj: ObjectInput) -> bytes:
    if obj.extra is not None:
        return obj.extra
    if obj.data_type == DataType.PARTITION:
        return _partition_extra(sif, obj.partition)
    if obj.data_type == DataType.SIGNATURE and obj.signature is not None:
        return _signature_extra(sif, obj.signature)
    if obj.data_type == DataType.CRYPTO_MESSAGE and obj.crypto_message is not None:
        return crypto_message_extra(obj.crypto_message.format_type,
                                    obj.crypto_message.message_type)
    if obj.data_type == DataType.SBOM and obj.sbom_format is not None:
        return sbom_extra(obj.sbom_format)
    return b""


def _partition_extra(sif: "SifFile", info: PartitionInfo | None) -> bytes:
    if info is None:
        raise SifError(f"cannot add to {sif.path}: a partition needs its filesystem type, "
                       f"partition type and architecture")
    if info.arch not in ARCH_CODES or info.arch == "unknown":
        raise SifError(f"cannot add to {sif.path}: unknown architecture '{info.arch}'")
    if info.parttype == PartType.PRIMARY_SYSTEM:
        existing = primary_partitions(sif.objects)
        if existing:
            raise SifError(f"cannot add to {sif.path}: it already has a primary system "
                           f"partition (object {existing[0].id})")
    return partition_extra(info.fstype, info.parttype, ARCH_CODES[info.arch])


def _signature_extra(sif: "SifFile", info: SignatureInfo) -> bytes:
    if len(info.entity) not in (0, FINGERPRINT_SIZE):
        raise SifError(f"cannot add to {sif.path}: a signing entity is a "
                       f"{FINGERPRINT_SIZE}-byte fingerprint, not {len(info.entity)} bytes")
    return signature_extra(info.hash_type, info.entity)


def _update_header(sif: "SifFile", descriptor: Descriptor, stamp: int) -> None:
    header = sif.header
    arch_code = header.arch_code
    if descriptor.parttype == PartType.PRIMARY_SYSTEM:
        arch_code = descriptor.arch_code
    sif.header = header.replace(
        arch_code=arch_code, descriptors_free=header.descriptors_free - 1,
        data_size=header.data_size + descriptor.size_with_padding, modified_at=stamp)


def _data_end(sif: "SifFile") -> int:
    """Where the data section ends by the header, which must be inside the file."""
    end = sif.header.data_offset + sif.header.data_size
    file_size = os.fstat(sif.fileno()).st_size
    if end > file_size:
        raise SifError(f"cannot add to {sif.path}: its header says the data ends at byte "
                       f"{end}, past the end of the file ({file_size} bytes)")
    return end


def _write_data(sif: "SifFile", obj: ObjectInput, start: int, offset: int) -> tuple[int, str]:
    """Copy the data to offset (zeros in the alignment gap); returns its size and, for the
    OCI types, whose metadata is the digest of their data, its sha256."""
    digest = hashlib.sha256() if obj.data_type in OCI_TYPES and obj.extra is None else None
    try:
        sif.zero_fill(start, offset)
        size = _copy(obj.data, sif.fileno(), offset, digest)
    except (OSError, OverflowError) as failure:
        raise SifError(f"cannot add to {sif.path}: {reason(failure)}") from failure
    return size, digest.hexdigest() if digest else ""


def _copy(data: bytes | BinaryIO, fd: int, offset: int, digest) -> int:
    """Copy data to fd at offset, feeding digest (when given); returns the size copied."""
    if digest is None and _is_regular_file(data):
        copied = _copy_in_kernel(data, fd, offset)
        if copied is not None:
            return copied
    if isinstance(data, (bytes, bytearray, memoryview)):
        chunks = iter([bytes(data)])
    else:
        chunks = iter(lambda: data.read(CHUNK), b"")
    written = 0
    for chunk in chunks:
        if digest is not None:
            digest.update(chunk)
        _pwrite_all(fd, chunk, offset + written)
        written += len(chunk)
    return written


def _is_regular_file(data) -> bool:
    try:
        return stat.S_ISREG(os.fstat(data.fileno()).st_mode)
    except (AttributeError, OSError, io.UnsupportedOperation):
        return False


def _copy_in_kernel(source: BinaryIO, fd: int, offset: int) -> int | None:
    """copy_file_range from the source's current position: no copy through user space, and
    a reflink on filesystems that share extents. None when the kernel or filesystem cannot
    do it, before anything is copied."""
    source_fd, position, written = source.fileno(), source.tell(), 0
    while True:
        try:
            count = os.copy_file_range(source_fd, fd, CHUNK * 64, position + written,
                                       offset + written)
        except OSError as failure:
            if written == 0 and failure.errno in UNSUPPORTED:
                return None
            raise
        if count == 0:
            return written
        written += count


def _pwrite_all(fd: int, chunk: bytes, offset: int) -> None:
    view = memoryview(chunk)
    while view:
        count = os.pwrite(fd, view, offset)
        view, offset = view[count:], offset + count
