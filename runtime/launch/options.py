"""What a caller may ask of a container: Apptainer's action flags as one value."""

from jupytainer.runtime.record import Record


class ContainerOptions(Record):
    """The flags of `exec`, `run`, `shell` and `test`, with Apptainer's meanings.

    binds are raw `src[:dst[:ro|rw]]` specifications (comma lists and `\\,`/`\\:` escapes
    allowed), applied after the default binds and in order. home is `src[:dst]`.
    no_env names host variables not to forward; no_eval takes --env values and env files
    literally; shell is the program the shell action starts. overlays are `DIR[:ro]`.
    no_mount names default mounts to skip (proc, sys, dev, devpts, home, tmp, cwd,
    bind-paths) or absolute destinations. host_env, when set, replaces the
    launcher's own environment as the one the container starts from.
    """

    binds: list[str] = []
    home: str | None = None
    no_home: bool = False
    contain: bool = False
    containall: bool = False
    cleanenv: bool = False
    env: dict[str, str] = {}
    env_files: list[str] = []
    no_env: list[str] = []
    no_eval: bool = False
    shell: str | None = None
    pwd: str | None = None
    writable: bool = False
    writable_tmpfs: bool = False
    overlays: list[str] = []
    fakeroot: bool = False
    hostname: str | None = None
    ipc: bool = False
    net: bool = False
    pid: bool = True
    no_mount: list[str] = []
    unsquash: bool = False
    app: str | None = None
    instance: str | None = None
    host_env: dict[str, str] | None = None
