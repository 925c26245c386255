"""One readable sentence for a container kernel that ended while it was starting: the
person reads it in JupyterLab's error dialog, so it names the image and the fix."""

from jupytainer.runtime.errors import JupytainerError

# Exit statuses of the image's /bin/sh for a command it could not find or run.
NOT_FOUND = 127
NOT_EXECUTABLE = 126

_MISSING_MODULE = "No module named"


def startup_failure(image: str, argv: list[str], status: int,
                    stderr: list[str]) -> JupytainerError:
    """Why the kernel command argv ended with status before the kernel could be reached."""
    program = argv[0] if argv else "the kernel"
    text = "\n".join(stderr)
    if status in (NOT_FOUND, NOT_EXECUTABLE) or _says_not_found(text, program):
        return JupytainerError(_no_program(image, program))
    if _MISSING_MODULE in text and "ipykernel" in text:
        return JupytainerError(
            f"{program} in {image} cannot import ipykernel: add "
            "'apt-get install -y python3-ipykernel' (or 'python3 -m pip install ipykernel') "
            "to the %post section of its definition file and rebuild the image")
    last = stderr[-1].strip() if stderr else "no error output"
    return JupytainerError(f"the kernel in {image} ended while starting (exit status "
                           f"{status}): {last}")


def _says_not_found(text: str, program: str) -> bool:
    return f"{program}: not found" in text or f"cannot run {program}" in text


def _no_program(image: str, program: str) -> str:
    if "python" in program:
        return (f"{image} has no {program}: add 'apt-get install -y python3 "
                "python3-ipykernel' to the %post section of its definition file and "
                "rebuild the image")
    return (f"{image} has no {program} to start the kernel with: install it in the image's "
            "%post section, or fix the kernel command (kernel_argv)")


def start_timeout(image: str, seconds: float) -> JupytainerError:
    """The kernel neither answered nor ended in time."""
    return JupytainerError(f"the kernel in {image} did not open its ports within "
                           f"{seconds:g} seconds: check the server's log for its output, or "
                           "raise launch_timeout in the kernelspec")
