"""The environment a container kernel starts from: the Jupyter server's, scrubbed of what
belongs to the server's own Python (its virtualenv or conda environment, its interpreter
settings) so that none of it leaks into the image's Python."""

from collections.abc import Mapping

# Whole variables that describe the server's interpreter or its environment manager.
_SERVER_ONLY = frozenset({
    "VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
    "PYTHONEXECUTABLE", "PYTHONUSERBASE", "PYTHONNOUSERSITE", "PYTHONSAFEPATH",
    "LD_PRELOAD", "LD_LIBRARY_PATH", "JPY_PARENT_PID", "JPY_INTERRUPT_EVENT",
    "PIP_PREFIX", "PIP_TARGET", "MPLBACKEND",
})
# Prefixes of conda's, mamba's and pixi's activation variables.
_SERVER_ONLY_PREFIXES = ("CONDA_", "_CE_", "MAMBA_", "PIXI_")

# ipykernel polls JPY_PARENT_PID and exits when its parent seems gone; inside the
# container's PID namespace the kernel's parent is the container's init, so the check can
# only misfire. It skips the poll for the value 1 (init never goes away).
NO_PARENT_POLL = "1"


def server_environment(server_env: Mapping[str, str]) -> dict[str, str]:
    """server_env without the server's Python settings: the host environment the
    container starts from (and forwards, unless cleanenv)."""
    return {name: value for name, value in server_env.items()
            if name not in _SERVER_ONLY and not name.startswith(_SERVER_ONLY_PREFIXES)}


def kernel_overrides(user_site: bool) -> dict[str, str]:
    """Variables every container kernel gets, set inside so that cleanenv keeps them.

    User site-packages (~/.local/lib/pythonX.Y) are those of the host home, built for the
    host's Python: they are kept out unless user_site asks for them.
    """
    overrides = {"JPY_PARENT_PID": NO_PARENT_POLL}
    if not user_site:
        overrides["PYTHONNOUSERSITE"] = "1"
    return overrides
