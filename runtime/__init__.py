"""The container toolchain: SIF images, the builder and the namespace launcher.

Nothing here imports a Jupyter package: the runtime stands on its own.
"""
