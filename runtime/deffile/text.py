"""How a definition file's text is cut into lines, words and stages, the way Apptainer reads it.

Parsing works on a normalised view (no byte-order mark, no carriage returns) while the stored
definition keeps the original text, so these helpers never change the number of lines.
A byte-order mark does not hide a first `Bootstrap:` line: it is in the first chunk anyway.
"""

import re

BOM = "\ufeff"

# The characters Go's word scanner treats as spaces: Apptainer finds a line's first word
# with it, and a few of them (NEL, no-break space) are not spaces to every tool.
WHITESPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

_WORD_SEPARATOR = re.compile(f"[{WHITESPACE}]+")

# A stage starts at every line that begins with `bootstrap:` in any case: not indented,
# no space before the colon, and also in the middle of a script.
_STAGE_START = re.compile(r"^bootstrap:", re.MULTILINE | re.IGNORECASE)


def without_bom(text: str) -> str:
    """The text without a leading UTF-8 byte-order mark, which editors on Windows add."""
    return text[len(BOM):] if text.startswith(BOM) else text


def split_lines(text: str) -> list[str]:
    """Lines split at '\\n' only, each without one trailing '\\r'; no empty last line."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def first_word(line: str) -> str:
    """The line's first whitespace-separated word, or '' for a blank line."""
    words = _WORD_SEPARATOR.split(line.strip(WHITESPACE), maxsplit=1)
    return words[0]


def is_indented(line: str) -> bool:
    return line[:1] != "" and line[0] in WHITESPACE


def stage_chunks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each chunk a `bootstrap:` line starts, and of what precedes the
    first one (comments, or a definition without a header); empty chunks are left out.

    The chunks are slices of the text as given, so they join back into it byte for byte.
    """
    starts = [match.start() for match in _STAGE_START.finditer(text)]
    bounds = [0, *starts, len(text)]
    return [(line_number(text, start), text[start:end])
            for start, end in zip(bounds, bounds[1:]) if end > start]


def line_number(text: str, offset: int) -> int:
    """The 1-based line of the character at offset."""
    return text.count("\n", 0, offset) + 1
