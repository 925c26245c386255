"""The SIF container format: read, create and edit SIF files (independent of the rest).

`load` opens an image reading only its header and descriptor table; `create` and
`write_atomically` make new ones; a SifFile adds, deletes and selects objects.

Stricter than the reference library on purpose: `load` refuses a table or an object past
the end of the file, negative or overlapping extents, objects over the descriptor table
and duplicate IDs, which the reference only notices (or not) when the data is read. A
partition with an unknown filesystem type still loads and lists (newer tools may write
one); `primary_partition()` refuses it, since nothing could run from it.
"""

import importlib

from .constants import (GO_ZERO_TIME, CryptoFormat, CryptoMessageType, DataType, FsType,
                        HashType, PartType, SbomFormat)
from .errors import SifError
from .image import SifFile
from .load import load
from .structures import Descriptor, Header

# Names for writing images, imported on first use so that reading one stays cheap.
_WRITING = {"CryptoMessageInfo": "add", "LinkTo": "add", "ObjectInput": "add",
            "PartitionInfo": "add", "SignatureInfo": "add", "create": "creation",
            "creating": "creation", "write_atomically": "creation"}


def __getattr__(name: str):
    if name not in _WRITING:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_WRITING[name]}", __name__)
    return getattr(module, name)


__all__ = [
    "GO_ZERO_TIME", "CryptoFormat", "CryptoMessageInfo", "CryptoMessageType", "DataType",
    "Descriptor", "FsType", "HashType", "Header", "LinkTo", "ObjectInput", "PartType",
    "PartitionInfo", "SbomFormat", "SifError", "SifFile", "SignatureInfo", "create",
    "creating", "load", "write_atomically",
]
