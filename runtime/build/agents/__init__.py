"""Bootstrap agents: each `Bootstrap:` value names a module here that fills an empty root
filesystem from the stage's header (`bootstrap(stage, rootfs, context)`).

Only the agent a stage names is imported.
"""

import importlib

from jupytainer.runtime.errors import JupytainerError

AGENTS = {
    "localimage": "localimage",
    "debootstrap": "debootstrap",
    "busybox": "busybox",
    "scratch": "scratch",
    "docker": "oci",
    "docker-archive": "oci",
    "docker-daemon": "oci",
    "oci": "oci",
    "oci-archive": "oci",
    "library": "unavailable",
    "oras": "unavailable",
    "shub": "unavailable",
    "yum": "unavailable",
    "dnf": "unavailable",
    "zypper": "unavailable",
    "arch": "unavailable",
    "buildkit": "unavailable",
    "dockerfile": "unavailable",
}


def agent_for(bootstrap: str | None):
    """The module implementing a `Bootstrap:` value (the value is case-sensitive)."""
    if not bootstrap:
        raise JupytainerError("no bootstrap specification found: start the definition with "
                              "a header such as 'Bootstrap: debootstrap'")
    if bootstrap not in AGENTS:
        known = ", ".join(name for name, module in AGENTS.items() if module != "unavailable")
        raise JupytainerError(f"invalid build source {bootstrap}: use one of {known}")
    return importlib.import_module(f"{__name__}.{AGENTS[bootstrap]}")
