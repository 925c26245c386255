"""jupytainer: Jupyter kernels inside reproducible Apptainer-compatible SIF containers."""

__version__ = "0.1.0"
