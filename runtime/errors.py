"""The one exception type for mistakes a user can fix: the command line prints its message.

Anything else that escapes is a bug in jupytainer and keeps its traceback.
"""


class JupytainerError(Exception):
    """A user-facing failure: its message is one line that names the thing and the fix."""

    exit_status = 255
