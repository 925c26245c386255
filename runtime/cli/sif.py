"""`jupytainer sif`: siftool's commands (new, add, del, list, info, header, dump, setprim),
with its arguments, flags and output, so that people who know one know the other."""

import argparse
import os
import shutil
import sys

from jupytainer.runtime import sif
from jupytainer.runtime.sif import text
from jupytainer.runtime.sif.constants import ARCH_NAMES, GROUP_MASK

DATATYPE_HELP = """the type of data to add [NEEDED, no default]:
  1-Deffile, 2-EnvVar, 3-Labels, 4-Partition,
  5-Signature, 6-GenericJSON, 7-Generic, 8-CryptoMessage,
  9-SBOM, 10-OCI.RootIndex, 11-OCI.Blob"""
# siftool's --partarch numbers are the stored codes; 13 (loong64) is not offered by siftool.
PARTITION_ARCHES = {int(code[:2]): name for code, name in ARCH_NAMES.items()
                    if 0 < int(code[:2]) <= 12}
SBOM_FORMATS = {name: value for value, name in text.SBOM_LABELS.items()}
SBOM_FORMATS["github"] = sif.SbomFormat.GITHUB_JSON
MAX_UINT32 = 0xFFFFFFFF


# command -> (summary, positional arguments, example), in siftool's order and words.
COMMAND_TABLE = {
    "add": ("Add a data object to a SIF image", ["sif_path", "object_path"],
            "add image.sif rootfs.squashfs --datatype 4 --parttype 2 --partfs 1 "
            "--partarch 2"),
    "del": ("Delete a data object from a SIF image", ["id", "sif_path"], "del 1 image.sif"),
    "dump": ("Dump a data object from a SIF image", ["id", "sif_path"], "dump 1 image.sif"),
    "header": ("Display global header from a SIF image", ["sif_path"], "header image.sif"),
    "info": ("Display info about a data object from a SIF image", ["id", "sif_path"],
             "info 1 image.sif"),
    "list": ("List data objects from a SIF image", ["sif_path"], "list image.sif"),
    "new": ("Create a new, empty SIF image", ["sif_path"], "new image.sif"),
    "setprim": ("Set the primary system partition in a SIF image", ["id", "sif_path"],
                "setprim 1 image.sif"),
}


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (summary, positionals, example) in COMMAND_TABLE.items():
        command = commands.add_parser(
            name, help=summary, description=summary, epilog=f"example: jupytainer sif {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter)
        for positional in positionals:
            command.add_argument(positional, metavar=f"<{positional}>")
        if name == "add":
            _configure_add(command)


def _configure_add(add: argparse.ArgumentParser) -> None:
    add.formatter_class = argparse.RawTextHelpFormatter
    add.add_argument("--datatype", type=int, default=0, metavar="int", help=DATATYPE_HELP)
    add.add_argument("--parttype", type=int, default=0, metavar="int", help=(
        "the type of partition (with --datatype 4-Partition):\n"
        "  1-System, 2-PrimSys, 3-Data, 4-Overlay"))
    add.add_argument("--partfs", type=int, default=0, metavar="int", help=(
        "the filesystem used (with --datatype 4-Partition):\n"
        "  1-Squash, 2-Ext3, 3-ImmuObj, 4-Raw"))
    add.add_argument("--partarch", type=int, default=0, metavar="int", help=(
        "the main architecture used (with --datatype 4-Partition):\n"
        "  1-386, 2-amd64, 3-arm, 4-arm64, 5-ppc64, 6-ppc64le,\n"
        "  7-mips, 8-mipsle, 9-mips64, 10-mips64le, 11-s390x, 12-riscv64"))
    add.add_argument("--signhash", type=int, default=0, metavar="int", help=(
        "the signature hash used (with --datatype 5-Signature):\n"
        "  1-SHA256, 2-SHA384, 3-SHA512, 4-BLAKE2s_256, 5-BLAKE2b_256"))
    add.add_argument("--signentity", default="", metavar="string", help=(
        "the entity that signs (with --datatype 5-Signature):\n"
        "  example: 433FE984155206BD962725E20E8713472A879943"))
    add.add_argument("--sbomformat", default="", metavar="string", help=(
        "the SBOM format (with --datatype 9-SBOM):\n"
        "  cyclonedx-json, cyclonedx-xml, github-json, spdx-json,\n"
        "  spdx-rdf, spdx-tag-value, spdx-yaml, syft-json"))
    add.add_argument("--groupid", type=int, default=0, metavar="uint32",
                     help="set groupid [default: 0, no group]")
    add.add_argument("--link", type=int, default=0, metavar="uint32",
                     help="set link pointer [default: 0]")
    add.add_argument("--alignment", type=int, default=None, metavar="int",
                     help="set alignment [default: 4096 with --datatype 4-Partition, "
                          "0 otherwise]")
    add.add_argument("--filename", default="", metavar="string",
                     help="set logical filename/handle [default: none]")


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
        try:
            shutil.copyfileobj(data, sys.stdout.buffer, length=1 << 20)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader stopped early (`| head`): not an error, and nothing left to flush.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


COMMANDS = {"new": _new, "add": _add, "del": _del, "setprim": _setprim, "list": _list,
            "header": _header, "info": _info, "dump": _dump}
