"""The error a broken definition file raises, and the "did you mean" hint its messages carry."""

import difflib
from collections.abc import Iterable

from jupytainer.runtime.errors import JupytainerError


class DefinitionError(JupytainerError):
    """A definition file that cannot be parsed or templated: one line naming where and the fix."""


def located(source: str, line: int | None, message: str) -> DefinitionError:
    """An error whose message starts with the file and, when known, the line it is about."""
    where = source if line is None else f"{source} line {line}"
    return DefinitionError(f"{where}: {message}")


def did_you_mean(word: str, choices: Iterable[str], prefix: str = "") -> str:
    """' (did you mean X?)' for the closest choice, or '' when none is close enough."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""


def shown(text: str) -> str:
    """Text from a file as it can be shown in a one-line message: tabs, newlines and other
    invisible characters escaped (`\\t`), so the message says exactly what is there."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
                   for char in text)
