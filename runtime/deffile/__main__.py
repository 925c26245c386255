"""`python -m jupytainer.runtime.deffile FILE`: print how a definition file parses, as JSON.

A debugging aid for definition files: it shows the stages, headers, sections, `%files`
groups and apps exactly as a build would see them, after templating.
"""

import argparse
import json
import sys

from jupytainer.runtime import log
from jupytainer.runtime.deffile import load_definition, parse_build_args
from jupytainer.runtime.errors import JupytainerError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupytainer.runtime.deffile",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the definition file")
    parser.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="fill {{ KEY }} with VALUE (repeatable)")
    parser.add_argument("--build-arg-file", action="append", default=[], metavar="FILE",
                        help="a file of KEY=VALUE lines (repeatable)")
    options = parser.parse_args(argv)
    try:
        definition = load_definition(options.file, parse_build_args(options.build_arg),
                                     options.build_arg_file)
    except JupytainerError as failure:
        log.fatal(str(failure))
        return failure.exit_status

    json.dump(definition.to_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
