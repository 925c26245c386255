"""The Debian mirror this machine's apt uses: the default MirrorURL of debootstrap builds,
so that a build reaches the same (possibly local or proxied) mirror as the host does."""

from pathlib import Path

SOURCES_DIR = Path("/etc/apt/sources.list.d")
SOURCES_LIST = Path("/etc/apt/sources.list")
FALLBACK = "http://deb.debian.org/debian"


def default_mirror() -> str:
    """The first `deb` source serving a release itself (not -security or -updates)."""
    for uri, suites in _deb_sources():
        if any("-" not in suite and "/" not in suite for suite in suites):
            return uri.rstrip("/")
    return FALLBACK


def _deb_sources() -> list[tuple[str, list[str]]]:
    sources = []
    if SOURCES_LIST.is_file():
        sources += _one_line_style(SOURCES_LIST.read_text())
    if SOURCES_DIR.is_dir():
        for path in sorted(SOURCES_DIR.iterdir()):
            if path.suffix == ".list":
                sources += _one_line_style(path.read_text())
            elif path.suffix == ".sources":
                sources += _deb822_style(path.read_text())
    return sources


def _one_line_style(text: str) -> list[tuple[str, list[str]]]:
    """`deb [options] URI SUITE COMPONENTS...` lines."""
    sources = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2:
            sources.append((words[0], [words[1]]))
    return sources


def _deb822_style(text: str) -> list[tuple[str, list[str]]]:
    """Paragraphs of `Types:`, `URIs:`, `Suites:`... fields; `Enabled: no` ones skipped."""
    sources = []
    for paragraph in text.split("\n\n"):
        fields = {}
        for line in paragraph.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.split()
        if "deb" not in fields.get("types", []) or fields.get("enabled") == ["no"]:
            continue
        for uri in fields.get("uris", []):
            sources.append((uri, fields.get("suites", [])))
    return sources
