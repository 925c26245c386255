"""The namespace launcher: runs a command inside an image the way Apptainer does.

`run_container` and `start_container` run it in a launcher process of their own, for
programs that must stay outside namespaces; the command line uses `launcher.launch`.
"""

from jupytainer.runtime.launch.options import ContainerOptions

__all__ = ["ContainerOptions", "ContainerProcess", "run_container", "start_container"]


def __getattr__(name: str):
    # The process API pulls in subprocess and json, which the command line does not need.
    if name in ("ContainerProcess", "run_container", "start_container"):
        from jupytainer.runtime.launch import process

        return getattr(process, name)
    raise AttributeError(name)
