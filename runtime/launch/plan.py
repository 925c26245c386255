"""Everything decided on the host before a container starts: which root file system, which
mounts in which order, who the caller is inside, where the payload starts.

Planning fails early, with one line, for every mistake that can be seen from the host
(missing image, missing bind source), so that nothing has been mounted yet.
"""

import os

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.image import Image
from jupytainer.runtime.launch.binds import Bind, binds_from_environment, parse_binds
from jupytainer.runtime.launch.options import ContainerOptions


class Mount:
    """One bind into the container. optional mounts are skipped when they cannot be made;
    a missing destination of a user's bind is an error unless the root can be written."""

    __slots__ = ("destination", "optional", "read_only", "recursive", "source", "user")

    def __init__(self, source: str, destination: str, read_only: bool = False,
                 optional: bool = False, user: bool = False, recursive: bool = True) -> None:
        self.source = source
        self.destination = destination
        self.read_only = read_only
        self.optional = optional
        self.user = user
        self.recursive = recursive


class Plan:
    """What init needs to build the container's view and start the payload."""

    def __init__(self) -> None:
        self.image: Image | None = None
        self.rootfs = "sandbox"          # sandbox | loop | fuse | extracted
        self.rootfs_path = ""            # the directory for sandbox and extracted roots
        self.mounter: str | None = None  # the squashfuse program for fuse roots
        self.session = ""
        self.writable = False
        self.writable_tmpfs = False
        self.overlays: list[tuple[str, bool]] = []
        self.mounts: list[Mount] = []
        self.contained_dirs: list[str] = []   # empty private directories (contained home)
        self.private_tmp = False
        self.minimal_dev = False
        self.no_mount: set[str] = set()
        self.user_name = ""
        self.uid = 0
        self.gid = 0
        self.groups: list[tuple[str, int]] = []
        self.home = "/"
        self.cwd = "/"
        self.cwd_must_match = False
        self.hostname: str | None = None
        self.namespaces = 0
        self.userns = False
        self.fakeroot = False
        self.action = "exec"
        self.args: list[str] = []
        self.argv: list[str] = []        # the action script's command, read on the host
        self.env: dict[str, str] = {}
        self.instance: str | None = None  # an instance's init outlives its payload


def effective(options: ContainerOptions) -> ContainerOptions:
    """A copy of options with --containall spelled out as what it implies (the caller's
    options, which a kernel reuses for every restart, stay as they were)."""
    options = options.replace()
    if options.containall:
        options.contain = True
        options.ipc = True
        options.cleanenv = True
    if options.writable and options.writable_tmpfs:
        from jupytainer.runtime import log

        log.warning("--writable and --writable-tmpfs are mutually exclusive: "
                    "ignoring --writable-tmpfs")
        options.writable_tmpfs = False
    return options


def user_binds(options: ContainerOptions, host_env: dict[str, str]) -> list[Bind]:
    """The user's binds in order: APPTAINER_BIND and friends, then -B options. Sources must
    exist on the host."""
    binds = parse_binds(binds_from_environment(host_env) + list(options.binds))
    for bind in binds:
        if not os.path.exists(bind.source):
            raise JupytainerError(f"bind source {bind.source} does not exist on the host: "
                                  "create it or fix the bind option")
        bind.source = os.path.realpath(bind.source)
    return binds


def home_mount(plan: Plan, options: ContainerOptions, host_home: str) -> Mount | None:
    """The home directory mount (or None), and plan.home set to its destination."""
    if options.home:
        source, _, destination = options.home.partition(":")
        destination = destination or source
        plan.home = destination
        if not os.path.isdir(source):
            raise JupytainerError(f"home directory {source} does not exist on the host: "
                                  "create it or fix the --home option")
        return Mount(os.path.realpath(source), destination)
    plan.home = "/root" if plan.fakeroot else host_home
    if options.no_home or "home" in plan.no_mount or plan.home == "/":
        return None
    if options.contain:
        plan.contained_dirs.append(plan.home)
        return None
    if not os.path.isdir(host_home):
        return None
    return Mount(os.path.realpath(host_home), plan.home)


def default_mounts(plan: Plan, options: ContainerOptions, home: Mount | None) -> list[Mount]:
    """The binds Apptainer makes by default, in its order: bind paths, home, tmp, cwd."""
    mounts = []
    if "bind-paths" not in plan.no_mount:
        for path in ("/etc/localtime", "/etc/hosts"):
            mounts.append(Mount(path, path, optional=True))
    if home is not None:
        mounts.append(home)
    if "tmp" not in plan.no_mount:
        if options.contain:
            plan.private_tmp = True
        else:
            mounts.append(Mount("/tmp", "/tmp", optional=True))
            if os.path.realpath("/var/tmp") != os.path.realpath("/tmp"):
                mounts.append(Mount("/var/tmp", "/var/tmp", optional=True))
    if not options.contain and "/etc/resolv.conf" not in plan.no_mount:
        mounts.append(Mount("/etc/resolv.conf", "/etc/resolv.conf", optional=True))
    return [mount for mount in mounts if mount.destination not in plan.no_mount]


def cwd_mount(plan: Plan, options: ContainerOptions, earlier: list[Mount],
              host_env: dict[str, str]) -> Mount | None:
    """The working directory's bind, unless contained or already visible through another.

    It appears at the path the caller's shell shows ($PWD, even through a host symlink),
    so that the payload starts where the caller believes it is.
    """
    try:
        cwd = os.getcwd()
    except FileNotFoundError:
        return None
    shown = _shown_cwd(cwd, host_env.get("PWD", ""))
    if options.pwd:
        plan.cwd = options.pwd
    elif options.contain:
        plan.cwd = plan.home
    else:
        plan.cwd = shown
        plan.cwd_must_match = True
    if options.contain or "cwd" in plan.no_mount or shown == "/":
        return None
    for mount in earlier:
        inside = shown == mount.source or shown.startswith(mount.source.rstrip("/") + "/")
        if inside and mount.source == mount.destination and shown == cwd:
            return None
    return Mount(cwd, shown, optional=True)


def _shown_cwd(cwd: str, logical: str) -> str:
    """$PWD when it names the working directory, else its physical path."""
    try:
        if logical.startswith("/") and os.path.samefile(logical, cwd):
            return os.path.normpath(logical)
    except OSError:
        pass
    return cwd


def make_plan(image: Image, action: str, args: list[str], options: ContainerOptions,
              host_env: dict[str, str]) -> Plan:
    """Decide everything that can be decided on the host."""
    from jupytainer.runtime.launch import syscalls as sc

    options = effective(options)
    plan = Plan()
    plan.image = image
    plan.userns = os.geteuid() != 0
    plan.fakeroot = options.fakeroot
    plan.writable = options.writable
    plan.writable_tmpfs = options.writable_tmpfs
    plan.overlays = [_parse_overlay(spec) for spec in options.overlays]
    plan.minimal_dev = options.contain
    plan.no_mount = {item for spec in options.no_mount for item in spec.split(",") if item}
    plan.hostname = options.hostname
    plan.instance = options.instance
    plan.namespaces = ((sc.CLONE_NEWUTS if options.hostname else 0)
                       | (sc.CLONE_NEWIPC if options.ipc else 0)
                       | (sc.CLONE_NEWNET if options.net else 0))
    _set_identity(plan)

    home = home_mount(plan, options, _host_home())
    plan.mounts = default_mounts(plan, options, home)
    cwd = cwd_mount(plan, options, plan.mounts, host_env)
    plan.mounts += [Mount(b.source, b.destination, b.read_only, user=True)
                    for b in user_binds(options, host_env)]
    if cwd is not None:
        plan.mounts.append(cwd)

    plan.action, plan.args = action, list(args)
    plan.env = _environment(plan, options, host_env)
    from jupytainer.runtime.launch.environment import action_argv

    plan.argv = action_argv(action, plan.args)
    return plan


def _parse_overlay(spec: str) -> tuple[str, bool]:
    # Limitation: only directories; ext3 overlay images and SIF overlay partitions are not
    # supported. A writable directory keeps its layers in DIR/upper and DIR/work.
    path, _, mode = spec.rpartition(":") if spec.endswith((":ro", ":rw")) else (spec, "", "")
    if not os.path.isdir(path):
        raise JupytainerError(f"overlay {path} is not a directory: create it, or give an "
                              "existing overlay directory")
    return os.path.realpath(path), mode == "ro"


def _set_identity(plan: Plan) -> None:
    import grp
    import pwd

    if plan.fakeroot:
        plan.user_name, plan.uid, plan.gid, plan.groups = "root", 0, 0, [("root", 0)]
        return
    plan.uid, plan.gid = os.getuid(), os.getgid()
    try:
        plan.user_name = pwd.getpwuid(plan.uid).pw_name
    except KeyError:
        plan.user_name = f"user{plan.uid}"
    for gid in dict.fromkeys([plan.gid, *os.getgroups()]):
        try:
            plan.groups.append((grp.getgrgid(gid).gr_name, gid))
        except KeyError:
            continue


def _host_home() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return os.environ.get("HOME", "/")


def _environment(plan: Plan, options: ContainerOptions,
                 host_env: dict[str, str]) -> dict[str, str]:
    from jupytainer.runtime.launch.environment import EnvironmentRequest, compose_environment

    request = EnvironmentRequest(
        cleanenv=options.cleanenv, env=dict(options.env), env_files=list(options.env_files),
        no_env=list(options.no_env), no_eval=options.no_eval, shell=options.shell,
        home_dest=plan.home, image_path=plan.image.path,
        binds=[m.destination for m in plan.mounts if m.user], instance=options.instance,
        app=options.app, args=list(plan.args))
    return compose_environment(host_env, request)
