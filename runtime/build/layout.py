"""The files every image carries under /.singularity.d, as Apptainer's base environment lays
them out, so that images built here run under Apptainer and images built there run here.

Scripts follow one shebang rule: a section whose text starts with `#!` keeps that line,
anything else gets `#!/bin/sh`; the section's own arguments are appended to the shebang.
"""

import os
from pathlib import Path

from jupytainer.runtime.build import paths

META = ".singularity.d"
DIRECTORIES = ("dev", "proc", "root", "var/tmp", "tmp", "etc", "sys", "home")
BIND_TARGETS = ("etc/hosts", "etc/resolv.conf")

SOURCE_ENV = """for script in /.singularity.d/env/*.sh; do
    if [ -f "$script" ]; then
        . "$script"
    fi
done
"""

ACTIONS = {
    "exec": SOURCE_ENV + '\nexec "$@"\n',
    "run": SOURCE_ENV + """
if [ -x /.singularity.d/runscript ]; then
    exec /.singularity.d/runscript "$@"
fi
echo "No runscript found in container, executing /bin/sh"
exec /bin/sh "$@"
""",
    "shell": SOURCE_ENV + '\nexec /bin/sh "$@"\n',
    "start": SOURCE_ENV + """
if [ -x /.singularity.d/startscript ]; then
    exec /.singularity.d/startscript "$@"
fi
""",
    "test": SOURCE_ENV + """
if [ -x /.singularity.d/test ]; then
    exec /.singularity.d/test "$@"
fi
echo "No test script found in container, exiting"
""",
}

ENV_SCRIPTS = {
    "01-base.sh": "#!/bin/sh\n#\n# Base environment of the container; later scripts add to it.\n",
    "90-environment.sh": "#!/bin/sh\n# Custom environment shell code should follow\n",
    "95-apps.sh": """#!/bin/sh
#
# With an app selected (run --app NAME), put its bin and lib first and load its environment.

if [ -n "${SINGULARITY_APPNAME:-}" ]; then
    SCIF_APPROOT="/scif/apps/${SINGULARITY_APPNAME}"
    SCIF_APPS="/scif/apps"
    export SCIF_APPROOT SCIF_APPS
    PATH="${SCIF_APPROOT}:${SCIF_APPROOT}/bin:${PATH}"
    LD_LIBRARY_PATH="${SCIF_APPROOT}/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
    export PATH LD_LIBRARY_PATH
    for script in "${SCIF_APPROOT}/scif/env/01-base.sh" \\
                  "${SCIF_APPROOT}/scif/env/90-environment.sh"; do
        if [ -f "$script" ]; then
            . "$script"
        fi
    done
fi
""",
    "99-base.sh": """#!/bin/sh
#
# Libraries the runtime binds in, and a prompt that says where the shell runs.

LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH}:}/.singularity.d/libs"
export LD_LIBRARY_PATH

if [ -z "${PS1:-}" ]; then
    PS1="Apptainer> "
    export PS1
fi
""",
    "99-runtimevars.sh": """#!/bin/sh
#
# PATH changes asked for on the command line (--env PATH, PREPEND_PATH, APPEND_PATH).

if [ -n "${SING_USER_DEFINED_PREPEND_PATH:-}" ]; then
    PATH="${SING_USER_DEFINED_PREPEND_PATH}:${PATH}"
fi
if [ -n "${SING_USER_DEFINED_APPEND_PATH:-}" ]; then
    PATH="${PATH}:${SING_USER_DEFINED_APPEND_PATH}"
fi
if [ -n "${SING_USER_DEFINED_PATH:-}" ]; then
    PATH="${SING_USER_DEFINED_PATH}"
fi
unset SING_USER_DEFINED_PREPEND_PATH SING_USER_DEFINED_APPEND_PATH SING_USER_DEFINED_PATH
export PATH
""",
}

DEFAULT_RUNSCRIPT = '#!/bin/sh\n\necho "There is no runscript defined for this container"\n'
DEFAULT_STARTSCRIPT = "#!/bin/sh\n"

LINKS = {
    "singularity": f"{META}/runscript",
    ".run": f"{META}/actions/run",
    ".exec": f"{META}/actions/exec",
    ".test": f"{META}/actions/test",
    ".shell": f"{META}/actions/shell",
    "environment": f"{META}/env/90-environment.sh",
}


def make_base_environment(rootfs: Path) -> None:
    """Create what the runtime expects, keeping whatever the image already has."""
    for name in DIRECTORIES:
        directory = paths.inside(rootfs, name)
        if not os.path.lexists(directory):
            directory.mkdir(mode=0o755, parents=True)
    for name in BIND_TARGETS:
        _write_missing(rootfs, name, "", 0o644)

    for name in ("libs", "actions", "env"):
        paths.inside(rootfs, f"{META}/{name}").mkdir(mode=0o755, parents=True, exist_ok=True)
    for action, body in ACTIONS.items():
        _write_missing(rootfs, f"{META}/actions/{action}", "#!/bin/sh\n\n" + body, 0o755)
    for name, text in ENV_SCRIPTS.items():
        _write_missing(rootfs, f"{META}/env/{name}", text, 0o755)
    _write_missing(rootfs, f"{META}/runscript", DEFAULT_RUNSCRIPT, 0o755)
    _write_missing(rootfs, f"{META}/startscript", DEFAULT_STARTSCRIPT, 0o755)

    for name, target in LINKS.items():
        _link(rootfs, name, target)


def script_text(text: str, args: str = "") -> str:
    """A section as an executable file (the shebang rule)."""
    stripped = text.strip()
    if stripped.startswith("#!"):
        shebang, _, body = stripped.partition("\n")
    else:
        shebang, body = "#!/bin/sh", stripped
    args = args.split("#", 1)[0].strip()
    if args:
        shebang = f"{shebang} {args}"
    return f"{shebang}\n\n{body}\n"


def write(rootfs: Path, path: str, text: str, mode: int) -> Path:
    """Write a file inside rootfs (parents created, symbolic links followed inside it)."""
    target = paths.inside(rootfs, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        target.unlink()
    target.write_text(text)
    os.chmod(target, mode)
    return target


def append(rootfs: Path, path: str, text: str) -> None:
    target = paths.inside(rootfs, path)
    with open(target, "a") as handle:
        handle.write(text)


def _write_missing(rootfs: Path, path: str, text: str, mode: int) -> None:
    target = paths.parent_inside(rootfs, path)
    if not os.path.lexists(target):
        write(rootfs, path, text, mode)


def _link(rootfs: Path, name: str, target: str) -> None:
    link = rootfs / name
    if link.is_symlink():
        if os.readlink(link) == target:
            return
        link.unlink()
    elif os.path.lexists(link):
        return
    link.symlink_to(target)
