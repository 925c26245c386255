"""The error raised for any SIF file that cannot be read or changed as asked."""

from jupytainer.runtime.errors import JupytainerError


class SifError(JupytainerError):
    """A SIF problem a user can act on; the message names the file and what is wrong."""
