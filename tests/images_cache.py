"""Images built from definitions once and kept between test runs, outside the repository.

A debootstrap build takes minutes; tests that need such an image call
`cached_image(definition_text)`, which builds it (as root, with the installed jupytainer)
the first time and returns the same file afterwards. The file's name is the SHA-256 of the
definition and jupytainer's version, so a changed definition or version rebuilds it (delete
the directory to rebuild after changing the builder itself).
Files are readable by every user, so tests running as the unprivileged user can use them.
"""

import fcntl
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from jupytainer import __version__

CACHE = Path(os.environ.get("JUPYTAINER_TEST_IMAGES", "/var/cache/jupytainer-tests"))
JUPYTAINER = Path(sys.executable).parent / "jupytainer"

PYTHON_KERNEL_DEFINITION = """\
Bootstrap: debootstrap
OSVersion: bookworm

%post
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-ipykernel
    apt-get clean
    rm -rf /var/lib/apt/lists/*

%labels
    org.jupytainer.test python3-ipykernel
"""


def cached_image(definition_text: str) -> Path:
    """The SIF built from definition_text (dedented), building it on first use."""
    text = textwrap.dedent(definition_text)
    key = hashlib.sha256(f"{text}\0{__version__}".encode()).hexdigest()
    image = CACHE / f"{key}.sif"
    if image.is_file():
        return image
    CACHE.mkdir(parents=True, exist_ok=True)
    os.chmod(CACHE, 0o755)
    with open(CACHE / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not image.is_file():
            _build(text, image)
    return image


def python_kernel_image() -> Path:
    """Debian bookworm with python3 and python3-ipykernel, for kernel tests."""
    return cached_image(PYTHON_KERNEL_DEFINITION)


def _build(text: str, image: Path) -> None:
    definition = image.with_suffix(".def")
    definition.write_text(text)
    result = subprocess.run([str(JUPYTAINER), "build", "--force", str(image), str(definition)],
                            capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"building the cached test image {image} failed:\n"
                           f"{result.stderr[-4000:]}")
    os.chmod(image, 0o755)
    os.chmod(definition, 0o644)
