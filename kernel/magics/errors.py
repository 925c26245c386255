"""The one exception the magics raise for a failure the user can act on."""


class MagicError(Exception):
    """A failed build or command: IPython shows just its one-line message, no traceback,
    and a notebook run headless (nbclient, papermill) stops at the cell."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]
