"""`jupytainer sif`: siftool's commands (new, add, del, list, info, header, dump, setprim),
with its arguments, flags and output, so that people who know one know the other."""

import argparse
import shutil
import sys

from jupytainer.runtime import sif
from jupytainer.runtime.sif import text
from jupytainer.runtime.sif.constants import ARCH_NAMES, GROUP_MASK

DATATYPE_HELP = """the type of data to add [NEEDED, no default]:
  1-Deffile, 2-EnvVar, 3-Labels, 4-Partition, 5-Signature, 6-GenericJSON,
  7-Generic, 8-CryptoMessage, 9-SBOM, 10-OCI.RootIndex, 11-OCI.Blob"""
# siftool's --partarch numbers are the stored codes; 13 (loong64) is not offered by siftool.
PARTITION_ARCHES = {int(code[:2]): name for code, name in ARCH_NAMES.items()
                    if 0 < int(code[:2]) <= 12}
SBOM_FORMATS = {name: value for value, name in text.SBOM_LABELS.items()}
SBOM_FORMATS["github"] = sif.SbomFormat.GITHUB_JSON
MAX_UINT32 = 0xFFFFFFFF


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("new", help="Create a new, empty SIF image").add_argument("sif_path")
    _configure_add(commands.add_parser("add", help="Add a data object to a SIF image"))
    for name, summary in [("del", "Delete a data object from a SIF image"),
                          ("info", "Display info about a data object from a SIF image"),
                          ("dump", "Dump a data object from a SIF image"),
                          ("setprim", "Set the primary system partition in a SIF image")]:
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument("id")
        command.add_argument("sif_path")
    for name, summary in [("list", "List data objects from a SIF image"),
                          ("header", "Display global header from a SIF image")]:
        commands.add_parser(name, help=summary, description=summary).add_argument("sif_path")


def _configure_add(add: argparse.ArgumentParser) -> None:
    add.formatter_class = argparse.RawTextHelpFormatter
    add.add_argument("sif_path")
    add.add_argument("object_path")
    add.add_argument("--datatype", type=int, default=0, help=DATATYPE_HELP)
    add.add_argument("--parttype", type=int, default=0, help="the type of partition "
                     "(with --datatype 4):\n  1-System, 2-PrimSys, 3-Data, 4-Overlay")
    add.add_argument("--partfs", type=int, default=0, help="the filesystem used "
                     "(with --datatype 4):\n  1-Squash, 2-Ext3, 3-ImmuObj, 4-Raw")
    add.add_argument("--partarch", type=int, default=0, help="the main architecture used "
                     "(with --datatype 4):\n  " + ", ".join(
                         f"{number}-{name}" for number, name in PARTITION_ARCHES.items()))
    add.add_argument("--signhash", type=int, default=0, help="the signature hash used "
                     "(with --datatype 5):\n  1-SHA256, 2-SHA384, 3-SHA512, 4-BLAKE2s_256, "
                     "5-BLAKE2b_256")
    add.add_argument("--signentity", default="", help="the entity that signs (with --datatype"
                     " 5), a 40-hex-digit fingerprint")
    add.add_argument("--sbomformat", default="", help="the SBOM format (with --datatype 9):\n  "
                     + ", ".join(name for name in SBOM_FORMATS if name != "github"))
    add.add_argument("--groupid", type=int, default=0, help="set groupid [default: 0, none]")
    add.add_argument("--link", type=int, default=0, help="set link pointer [default: 0]")
    add.add_argument("--alignment", type=int, default=None, help="set alignment "
                     "[default: 4096 with --datatype 4, 0 otherwise]")
    add.add_argument("--filename", default="", help="set logical filename/handle "
                     "[default: none]")


def run(args: argparse.Namespace) -> int:
    COMMANDS[args.command](args)
    return 0


def _new(args: argparse.Namespace) -> None:
    sif.write_atomically(args.sif_path, lambda image: None)


def _add(args: argparse.Namespace) -> None:
    obj = object_input(args)
    with sif.load(args.sif_path, writable=True) as image:
        image.add_object(obj)


def object_input(args: argparse.Namespace) -> sif.ObjectInput:
    """The object `siftool add` would make of these flags, refused with the same reasons."""
    if not 1 <= args.datatype <= len(sif.DataType):
        raise sif.SifError("--datatype is required: a number from 1 to 11 (see --help)")
    data_type = list(sif.DataType)[args.datatype - 1]
    _check_uint32("--groupid", args.groupid)
    _check_uint32("--link", args.link)
    return sif.ObjectInput(
        data_type, args.object_path, name=args.filename,
        group_id=args.groupid or None, link=_link(args.link), alignment=args.alignment,
        partition=_partition(args) if data_type == sif.DataType.PARTITION else None,
        signature=_signature(args) if data_type == sif.DataType.SIGNATURE else None,
        sbom_format=_sbom_format(args) if data_type == sif.DataType.SBOM else None)


def _check_uint32(flag: str, value: int) -> None:
    if not 0 <= value <= MAX_UINT32:
        raise sif.SifError(f"{flag} {value} is out of range (0 to {MAX_UINT32})")


def _link(raw: int) -> sif.LinkTo | None:
    """--link is stored as given, as siftool does: a plain ID, or a group with the mask."""
    if raw == 0:
        return None
    return sif.LinkTo(raw & ~GROUP_MASK, group=raw & GROUP_MASK == GROUP_MASK)


def _partition(args: argparse.Namespace) -> sif.PartitionInfo:
    if not (args.parttype and args.partfs and args.partarch):
        raise sif.SifError("with partition datatype, --partfs, --parttype and --partarch "
                           "must be passed")
    if args.partarch not in PARTITION_ARCHES:
        raise sif.SifError(f"unknown architecture code {args.partarch} (see --help)")
    return sif.PartitionInfo(args.partfs, args.parttype, PARTITION_ARCHES[args.partarch])


def _signature(args: argparse.Namespace) -> sif.SignatureInfo:
    try:
        entity = bytes.fromhex(args.signentity)
    except ValueError:
        raise sif.SifError(f"--signentity '{args.signentity}' is not a hexadecimal "
                           f"fingerprint") from None
    if len(entity) != 20:
        raise sif.SifError(f"invalid signing entity fingerprint length: got {len(entity)}, "
                           f"want 20")
    if args.signhash not in set(sif.HashType):
        raise sif.SifError(f"invalid hash type: {args.signhash} (see --help)")
    return sif.SignatureInfo(sif.HashType(args.signhash), entity)


def _sbom_format(args: argparse.Namespace) -> int:
    if not args.sbomformat:
        raise sif.SifError("with SBOM datatype, --sbomformat must be passed")
    if args.sbomformat not in SBOM_FORMATS:
        raise sif.SifError(f"invalid SBOM format: {args.sbomformat} (see --help)")
    return SBOM_FORMATS[args.sbomformat]


def _object_id(raw: str) -> int:
    if not raw.isdigit() or int(raw) == 0 or int(raw) > MAX_UINT32:
        raise sif.SifError(f"invalid object ID '{raw}': IDs are numbers from 1 (see 'list')")
    return int(raw)


def _del(args: argparse.Namespace) -> None:
    object_id = _object_id(args.id)
    with sif.load(args.sif_path, writable=True) as image:
        image.delete_object(object_id)


def _setprim(args: argparse.Namespace) -> None:
    object_id = _object_id(args.id)
    with sif.load(args.sif_path, writable=True) as image:
        image.set_primary_partition(object_id)


def _list(args: argparse.Namespace) -> None:
    with sif.load(args.sif_path) as image:
        sys.stdout.write(text.list_text(image.objects))


def _header(args: argparse.Namespace) -> None:
    with sif.load(args.sif_path) as image:
        sys.stdout.write(text.header_text(image.header))


def _info(args: argparse.Namespace) -> None:
    object_id = _object_id(args.id)
    with sif.load(args.sif_path) as image:
        sys.stdout.write(text.info_text(image.get(object_id)))


def _dump(args: argparse.Namespace) -> None:
    object_id = _object_id(args.id)
    with sif.load(args.sif_path) as image, image.open_object(image.get(object_id)) as data:
        sys.stdout.flush()
        shutil.copyfileobj(data, sys.stdout.buffer, length=1 << 20)
        sys.stdout.buffer.flush()


COMMANDS = {"new": _new, "add": _add, "del": _del, "setprim": _setprim, "list": _list,
            "header": _header, "info": _info, "dump": _dump}
