"""The IPython extension: `%%apptainer`, `%%def` and `%container` (see commands.py).

`%load_ext jupytainer` loads it; `c.InteractiveShellApp.extensions = ["jupytainer"]` in an
IPython or ipykernel configuration file loads it in every kernel.
"""

from jupytainer.kernel.magics.assignment import mark_captures
from jupytainer.kernel.magics.commands import ContainerMagics
from jupytainer.kernel.magics.completion import MAGICS, complete
from jupytainer.kernel.magics.errors import MagicError

__all__ = ["ContainerMagics", "MagicError", "load_ipython_extension",
           "unload_ipython_extension"]


def load_ipython_extension(ipython) -> None:
    """Register the magics, their completion and the capturing assignment."""
    ipython.register_magics(ContainerMagics)
    for name in MAGICS:
        ipython.set_hook("complete_command", complete, str_key=name)
    if mark_captures not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(mark_captures)


def unload_ipython_extension(ipython) -> None:
    """Stop marking assignments."""
    # Limitation: IPython has no call to unregister magics or completers, so they stay
    # until the kernel restarts (as with most extensions).
    if mark_captures in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(mark_captures)
