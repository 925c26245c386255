"""A stage's header: the `Key: value` lines before its first section."""

from jupytainer.runtime.deffile.errors import did_you_mean, located, shown
from jupytainer.runtime.deffile.keywords import BOOTSTRAP_AGENTS, HEADER_KEYWORDS, \
    is_header_keyword

NumberedLine = tuple[int, str]


class _Header:
    """Keys and values collected so far, and a value continued on the next line."""

    def __init__(self, source: str, hint: str):
        self.source, self.hint = source, hint
        self.values: dict[str, str] = {}
        self.lines: dict[str, int] = {}
        self.pending: tuple[str, str, int] | None = None

    def store(self, key: str, value: str, number: int, written: str) -> None:
        if not is_header_keyword(key):
            raise located(self.source, number, f"unknown header keyword '{shown(written)}'"
                          f"{did_you_mean(key, HEADER_KEYWORDS)}: header lines name what the "
                          f"bootstrap agent reads (Bootstrap, From, OSVersion, MirrorURL, "
                          f"Include, Stage...){self.hint}")
        self.values[key] = value
        self.lines[key] = number

    def flush(self) -> None:
        """A continuation that no further line completes keeps what it has."""
        if self.pending:
            key, value, number = self.pending
            self.pending = None
            self.store(key, value, number, key)


def parse_header(lines: list[NumberedLine], *, source: str,
                 hint: str = "") -> tuple[dict[str, str], dict[str, int]]:
    """(values by lower-case key, line of each key) from a stage's header lines.

    A `#` anywhere cuts the rest of the line (so values cannot contain one), the first ':'
    splits key from value, and a value ending in a backslash continues on the next line (a
    `\\n` just before that backslash stands for a newline). A later key overwrites.
    """
    header = _Header(source, hint)
    for number, line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            header.flush()
            continue

        text = stripped.split("#", 1)[0]
        if header.pending:
            key, value, start = header.pending
            header.pending = None
            value, written = value + text.strip(), key
        else:
            _check_looks_like_header(stripped, text, number, first=not header.values,
                                     source=source, hint=hint)
            written, value = (part.strip() for part in text.split(":", 1))
            key, start = written.lower(), number

        if value.endswith("\\"):
            value = value[:-1]
            if value.endswith("\\n"):
                value = value[:-2] + "\n"
            header.pending = (key, value, start)
            continue
        header.store(key, value, start, written)
    header.flush()
    return header.values, header.lines


def _check_looks_like_header(stripped: str, text: str, number: int, *, first: bool,
                             source: str, hint: str) -> None:
    if first and stripped.startswith(("{", "[")):
        raise located(source, number, "this looks like JSON, not a definition file: a "
                      "definition starts with header lines such as 'Bootstrap: docker', "
                      "then %sections")
    key_words = text.split(":", 1)[0].split()
    word, rest = (key_words or [""])[0], text.split(None, 1)[1:]
    if word.lower() in HEADER_KEYWORDS and len(key_words) > 1:
        raise located(source, number, f"header line '{shown(stripped)}' needs a ':' after "
                      f"'{shown(word)}': write '{shown(word)}: {shown(''.join(rest).strip())}'"
                      f"{hint}")
    if ":" not in text:
        raise located(source, number, f"header line '{shown(stripped)}' has no ':': header "
                      "lines are 'Key: value' (e.g. 'Bootstrap: docker') and sections start "
                      f"with '%'{hint}")


def check_bootstrap(values: dict[str, str], lines: dict[str, int], *, source: str,
                    hint: str = "") -> None:
    """Reject a `Bootstrap:` value that no Apptainer agent has (agents are case-sensitive)."""
    agent = values.get("bootstrap")
    if agent is None or "{{" in agent or agent in BOOTSTRAP_AGENTS:
        return

    number = lines["bootstrap"]
    if not agent:
        raise located(source, number, "'Bootstrap:' has no value: name the agent that makes "
                      "the root filesystem, e.g. 'Bootstrap: debootstrap'" + hint)
    raise located(source, number, f"unknown bootstrap agent '{shown(agent)}'"
                  f"{did_you_mean(agent, BOOTSTRAP_AGENTS)}: agents are "
                  f"{', '.join(BOOTSTRAP_AGENTS)}{hint}")
