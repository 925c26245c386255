"""`%files` lines: a source and an optional destination, either of which may be quoted."""

import re

# A word is a run of quoted strings, `{{ NAME }}` placeholders (whose inner spaces do not
# split it) and other non-space characters.
_WORD = re.compile(r"""(?:"[^"]*"|'[^']*'|\{\{\s*\w+\s*\}\}|[^\s"'])+""")
_QUOTED = re.compile(r""""([^"]*)"|'([^']*)'""")


def parse_files_entries(body: str) -> list[tuple[str, str]]:
    """(source, destination) per line; the destination is '' when the line names only a source
    (the file then lands at its own path). Blank and `#` lines are skipped, and words after
    the second are ignored, as Apptainer does."""
    entries = []
    for line in body.split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue

        words = split_words(line)
        if words:
            entries.append((words[0], words[1] if len(words) > 1 else ""))
    return entries


def split_words(text: str) -> list[str]:
    """The words of a line, quotes removed; a `{{ NAME }}` placeholder stays one word."""
    return [_unquote(word) for word in _WORD.findall(text)]


def _unquote(word: str) -> str:
    return _QUOTED.sub(lambda match: match.group(1) or match.group(2) or "", word)
