"""The image config (`Env`, `Entrypoint`, `Cmd`, `WorkingDir`, labels) turned into what an
Apptainer image carries instead: an environment script, a runscript and labels.json. Every
value is written so that the shell reads it back literally, whatever characters it holds."""

import json
import re
from dataclasses import dataclass, field

from jupytainer.runtime import log

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_RUN_TEMPLATE = """\
# With SINGULARITY_NO_EVAL set, arguments and the image's ENTRYPOINT and CMD are passed as
# they are, with Docker's rules; otherwise they go through one round of shell evaluation,
# as Apptainer has always done.
if [ -n "${SINGULARITY_NO_EVAL:-}" ]; then
    if [ $# -eq 0 ]; then
        eval "set -- ${OCI_CMD}"
    fi
    eval "set -- ${OCI_ENTRYPOINT} \\"\\$@\\""
    exec "$@"
fi

CMDLINE_ARGS=""
for arg in "$@"; do
    CMDLINE_ARGS="${CMDLINE_ARGS} \\"${arg}\\""
done

if [ $# -gt 0 ]; then
    SINGULARITY_OCI_RUN="${OCI_ENTRYPOINT} ${CMDLINE_ARGS}"
else
    SINGULARITY_OCI_RUN="${OCI_ENTRYPOINT} ${OCI_CMD}"
fi

eval "set -- ${SINGULARITY_OCI_RUN}"
exec "$@"
"""


@dataclass
class ImageConfig:
    """What an image's config says about running it, plus where the image came from."""

    env: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    working_dir: str = ""
    user: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    architecture: str = ""
    variant: str = ""
    raw: dict = field(default_factory=dict)
    base_name: str = ""
    base_digest: str = ""


def parse_config(document: dict) -> ImageConfig:
    """The parts of an image config jupytainer uses; missing or null fields are empty."""
    config = document.get("config") or {}
    if not isinstance(config, dict):
        config = {}
    return ImageConfig(
        env=_strings(config.get("Env")),
        entrypoint=_strings(config.get("Entrypoint")),
        cmd=_strings(config.get("Cmd")),
        working_dir=str(config.get("WorkingDir") or ""),
        user=str(config.get("User") or ""),
        labels={str(key): str(value) for key, value in (config.get("Labels") or {}).items()},
        architecture=str(document.get("architecture") or ""),
        variant=str(document.get("variant") or ""),
        raw=document,
    )


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value or []]


def double_quoted(value: str) -> str:
    """`value` inside double quotes, with the four characters special there escaped."""
    return '"' + re.sub(r'([\\"$`])', r"\\\1", value) + '"'


def single_quoted(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def environment_script(config: ImageConfig) -> str:
    """/.singularity.d/env/10-docker2singularity.sh: the image's ENV as defaults that the
    host environment may override, except PATH, which the image always sets."""
    lines = ["#!/bin/sh"]
    for entry in config.env:
        name, equals, value = entry.partition("=")
        if not _NAME.fullmatch(name):
            log.warning(f"skipping the image environment variable '{name}': not a valid "
                        "shell variable name")
            continue
        if not equals:
            lines.append(f'export {name}="${{{name}:-}}"')
        elif name == "PATH":
            lines.append(f"export PATH={double_quoted(value)}")
        else:
            lines.append(f'export {name}="${{{name}:-{double_quoted(value)}}}"')
    return "\n".join(lines) + "\n"


def runscript(config: ImageConfig) -> str:
    """/.singularity.d/runscript: ENTRYPOINT with CMD as default arguments, which arguments
    given to `run` replace."""
    entrypoint = " ".join(double_quoted(item) for item in config.entrypoint)
    cmd = " ".join(double_quoted(item) for item in config.cmd)
    return (f"#!/bin/sh\nOCI_ENTRYPOINT={single_quoted(entrypoint)}\n"
            f"OCI_CMD={single_quoted(cmd)}\n\n{_RUN_TEMPLATE}")


def labels_json(labels: dict[str, str]) -> str:
    """labels.json as Apptainer writes it: sorted keys, tab indentation, HTML-safe escapes."""
    text = json.dumps(labels, indent="\t", sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
