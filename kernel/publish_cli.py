"""`jupytainer pin`, `publish` and `reproduce`: pin a notebook to its image, bundle it for
a reviewer, and re-run it to see which outputs changed."""

import argparse
import os

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError

# Exit status of `reproduce` when it ran but some outputs changed.
CHANGED = 1


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    {"pin": _configure_pin, "publish": _configure_publish,
     "reproduce": _configure_reproduce}[verb](parser)


def run(args: argparse.Namespace) -> int:
    return {"pin": _pin, "publish": _publish, "reproduce": _reproduce}[args.verb](args)


def _configure_pin(parser: argparse.ArgumentParser) -> None:
    from jupytainer.kernel.cli import _add_runtime_flags

    parser.add_argument("notebook", help="the .ipynb file to pin")
    parser.add_argument("image", nargs="?", help="the SIF image it runs in (default: the "
                        "image of the container kernel that last ran it, or of its kernelspec)")
    _add_runtime_flags(parser)


def _configure_publish(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", help="a pinned .ipynb file")
    parser.add_argument("-o", "--output", metavar="BUNDLE.tar.zst",
                        help="the bundle to write (default: NOTEBOOK-NAME.tar.zst here)")
    parser.add_argument("--image", help="the pinned SIF image (default: where it was pinned, "
                        "or beside the notebook)")
    parser.add_argument("--no-image", action="store_true", help="leave the image out: keep "
                        "only its digest and definition file")
    parser.add_argument("--include", action="append", default=[], metavar="PATH",
                        help="a data file or directory beside the notebook (repeatable)")


def _configure_reproduce(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="BUNDLE|NOTEBOOK",
                        help="a bundle from 'jupytainer publish', or a pinned notebook")
    parser.add_argument("--image", help="run in this SIF image instead of the pinned one")
    parser.add_argument("--allow-different-image", action="store_true",
                        help="run even if the image is not the pinned one")
    parser.add_argument("--output", metavar="NEW.ipynb", help="save the re-run notebook")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds a cell may run (default: no limit)")


def _pin(args: argparse.Namespace) -> int:
    from jupytainer.kernel import pinning

    if args.image:
        from jupytainer.kernel.cli import _runtime_options

        options = _runtime_options(args).config()
        pin = pinning.pin_notebook(args.notebook, args.image, options)
    else:
        pin = pinning.pin_from_kernel(args.notebook)
    log.info(f"Pinned {args.notebook} to {pin['image_name']} ({pin['image_digest']})")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from jupytainer.kernel.bundle import publish

    bundle = publish(args.notebook, args.output, args.include, with_image=not args.no_image,
                     image=args.image)
    size = os.path.getsize(bundle)
    log.info(f"Published {args.notebook} as {bundle} ({size / 1e6:.1f} MB)")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from jupytainer.kernel import reproduce

    if args.output and not args.output.endswith(".ipynb"):
        raise JupytainerError(f"--output {args.output} must name a .ipynb file")
    outcome = reproduce.reproduce(args.source, args.image, args.allow_different_image,
                                  args.timeout)
    if args.output:
        reproduce.save(outcome, args.output)
        log.info(f"Saved the re-run notebook as {args.output}")
    code_cells = sum(cell.get("cell_type") == "code" for cell in outcome.notebook["cells"])
    print(reproduce.report(outcome.changes, code_cells))
    return CHANGED if outcome.changes else 0
