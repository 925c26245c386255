"""The error raised for any SIF file that cannot be read or changed as asked."""

from jupytainer.runtime.errors import JupytainerError


class SifError(JupytainerError):
    """A SIF problem a user can act on; the message names the file and what is wrong."""


def reason(failure: BaseException) -> str:
    """The short text of an OS failure ('No space left on device'), else its message."""
    return getattr(failure, "strerror", None) or str(failure)
