"""The vocabulary of a definition file: its sections, header keywords and bootstrap agents."""

import re

# Sections that stand on their own (`%post`), as Apptainer knows them.
STANDARD_SECTIONS = (
    "help", "setup", "files", "labels", "environment", "pre", "post", "runscript", "test",
    "startscript", "arguments",
)

# SCIF app sections: each is followed by the app's name (`%apprun NAME`).
APP_SECTIONS = (
    "appinstall", "applabels", "appfiles", "appenv", "apptest", "apphelp", "apprun", "appstart",
)

ALL_SECTIONS = STANDARD_SECTIONS + APP_SECTIONS

# Header keywords any bootstrap agent reads; `otherurl` takes a number (`OtherURL0`, ...).
HEADER_KEYWORDS = (
    "bootstrap", "from", "includecmd", "mirrorurl", "updateurl", "osversion", "include",
    "library", "registry", "namespace", "stage", "product", "user", "regcode", "productpgp",
    "registerurl", "modules", "fingerprints", "confurl", "setopt", "target", "frontend",
    "filename", "buildargs",
)

_NUMBERED_KEYWORD = re.compile(r"otherurl[0-9]+")

# Every `Bootstrap:` value Apptainer knows; whether jupytainer can build from it is the
# builder's business, but a value outside this list is a typo wherever it is built.
BOOTSTRAP_AGENTS = (
    "docker", "docker-archive", "docker-daemon", "oci", "oci-archive", "library", "oras",
    "localimage", "shub", "yum", "dnf", "zypper", "debootstrap", "arch", "busybox", "scratch",
    "buildkit", "dockerfile",
)


def is_header_keyword(key: str) -> bool:
    """Whether a lower-cased header key is one Apptainer accepts."""
    return key in HEADER_KEYWORDS or _NUMBERED_KEYWORD.fullmatch(key) is not None
