"""jupytainer: Jupyter kernels inside reproducible Apptainer-compatible SIF containers."""

__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    """`%load_ext jupytainer`: the notebook magics, imported only when asked for, so that
    importing jupytainer never imports IPython."""
    from jupytainer.kernel.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    from jupytainer.kernel.magics import unload_ipython_extension as unload

    unload(ipython)
