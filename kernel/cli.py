"""`jupytainer kernel`: install, list and remove Jupyter kernels that run in an image."""

import argparse
import os
import shlex
import sys

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError

# The `exec` flags a kernelspec keeps: (flags, provisioner trait, help).
SWITCHES = [
    (("--no-home",), "no_home", "do not mount the home directory"),
    (("-c", "--contain"), "contain", "use minimal /dev and empty home, /tmp and /var/tmp"),
    (("-C", "--containall"), "containall", "--contain, and clean environment and IPC"),
    (("-e", "--cleanenv"), "cleanenv", "do not pass the server's environment on"),
    (("--writable-tmpfs",), "writable_tmpfs", "a temporary writable layer over the image"),
    (("--user-site",), "user_site", "let the kernel import ~/.local packages of the home"),
    (("--unsquash",), "unsquash", "run from a copy of the image extracted once into the cache"),
]
VALUES = [
    (("-H", "--home"), "home", "SRC[:DST]: the home directory to use"),
    (("--pwd",), "pwd", "the kernel's working directory in the container"),
]
LISTS = [
    (("-B", "--bind"), "binds", "SRC[:DST[:ro|rw]]: a bind mount (repeatable)"),
    (("--env",), "env", "NAME=VALUE: set a variable in the container (repeatable)"),
    (("-o", "--overlay"), "overlay", "DIR[:ro]: an overlay directory (repeatable)"),
]


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    """The subcommands install, list and remove."""
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    install = commands.add_parser("install", help="install a kernel that runs in IMAGE")
    install.add_argument("image", help="a SIF image or a sandbox directory")
    install.add_argument("--name", help="the kernelspec name (default: from the image)")
    install.add_argument("--display-name", help="the name shown in JupyterLab")
    install.add_argument("--from-image", action="store_true",
                         help="install one kernel for each kernelspec inside the image")
    install.add_argument("--kernel-command", metavar="COMMAND",
                         help="the kernel's command in the image, as one shell-quoted string "
                              "(default: 'python3 -m ipykernel_launcher -f {connection_file}')")
    _add_runtime_flags(install)
    _add_destination_flags(install)
    default = commands.add_parser("default", help="build jupytainer's default image (once) "
                                  "and install its kernel")
    _add_destination_flags(default)
    commands.add_parser("list", help="list the installed container kernels")
    remove = commands.add_parser("remove", help="remove an installed container kernel")
    remove.add_argument("name", help="the kernelspec name, as 'kernel list' shows it")


def run(args: argparse.Namespace) -> int:
    if args.command == "install":
        return _install(args)
    if args.command == "default":
        return _install_default(args)
    if args.command == "list":
        return _list()
    from jupytainer.kernel import kernelspecs

    log.info(f"Removed kernel {args.name} from {kernelspecs.remove(args.name)}")
    return 0


def _add_runtime_flags(parser: argparse.ArgumentParser) -> None:
    for flags, dest, help_text in SWITCHES:
        parser.add_argument(*flags, dest=dest, action="store_true", help=help_text)
    for flags, dest, help_text in VALUES:
        parser.add_argument(*flags, dest=dest, help=help_text)
    for flags, dest, help_text in LISTS:
        parser.add_argument(*flags, dest=dest, action="append", default=[], help=help_text)


def _add_destination_flags(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for this user only")
    where.add_argument("--sys-prefix", action="store_true",
                       help="install into this Python environment")
    where.add_argument("--prefix", help="install into PREFIX/share/jupyter/kernels")


def _install_default(args: argparse.Namespace) -> int:
    from jupytainer.kernel import default_image, kernelspecs

    image = str(default_image.default_image())
    spec = kernelspecs.kernel_json(image, default_image.DISPLAY_NAME,
                                   kernelspecs.RuntimeOptions())
    place = kernelspecs.install(spec, default_image.KERNEL_NAME, user=args.user,
                                prefix=_prefix(args))
    log.info(f"Installed kernel {default_image.KERNEL_NAME} ({image}) in {place}")
    return 0


def _install(args: argparse.Namespace) -> int:
    from jupytainer.kernel import kernelspecs
    from jupytainer.runtime.image import resolve_image

    image = os.path.abspath(args.image)
    resolve_image(image)
    options = _runtime_options(args)
    if args.from_image:
        specs = _specs_from_image(image, options, args)
    else:
        name = args.name or kernelspecs.default_name(image)
        display = args.display_name or kernelspecs.default_display_name(image)
        argv = shlex.split(args.kernel_command) if args.kernel_command else None
        specs = [(name, kernelspecs.kernel_json(image, display, options, argv))]
    for name, spec in specs:
        place = kernelspecs.install(spec, name, user=args.user, prefix=_prefix(args))
        log.info(f"Installed kernel {name} ({spec['display_name']}) in {place}")
    return 0


def _specs_from_image(image: str, options, args: argparse.Namespace) -> list[tuple[str, dict]]:
    from jupytainer.kernel import kernelspecs
    from jupytainer.kernel.image_kernels import kernels_in_image

    if args.kernel_command:
        raise JupytainerError("a kernel command and --from-image exclude each other: the "
                              "image's kernelspecs give the commands")
    specs = []
    for found in kernels_in_image(image):
        found_options = kernelspecs.RuntimeOptions(**{**vars(options),
                                                      "env": {**found.env, **options.env}})
        name = kernelspecs.default_name(args.name or image, found.name)
        display = kernelspecs.default_display_name(image, found.display_name)
        specs.append((name, kernelspecs.kernel_json(image, display, found_options, found.argv,
                                                    found.language, found.interrupt_mode)))
    return specs


def _runtime_options(args: argparse.Namespace):
    from jupytainer.kernel.kernelspecs import RuntimeOptions

    env = {}
    for word in args.env:
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise JupytainerError(f"--env {word} is not NAME=VALUE: write it as NAME=VALUE")
        env[name] = value
    return RuntimeOptions(
        binds=list(args.binds), home=args.home, no_home=args.no_home, contain=args.contain,
        containall=args.containall, cleanenv=args.cleanenv, env=env, pwd=args.pwd,
        writable_tmpfs=args.writable_tmpfs, overlay=list(args.overlay),
        user_site=args.user_site, unsquash=args.unsquash)


def _prefix(args: argparse.Namespace) -> str | None:
    return sys.prefix if args.sys_prefix else args.prefix


def _list() -> int:
    from jupytainer.kernel import kernelspecs

    kernels = kernelspecs.installed()
    if not kernels:
        log.info("No container kernels installed: add one with 'jupytainer kernel install "
                 "IMAGE'")
        return 0
    width = max(len(kernel.name) for kernel in kernels)
    shown = max(len(kernel.display_name) for kernel in kernels)
    for kernel in kernels:
        print(f"{kernel.name:<{width}}  {kernel.display_name:<{shown}}  {kernel.image}")
    return 0
