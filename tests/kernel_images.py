"""Images for the kernel tests: an older Debian than the host, with a Python kernel.

The kernel tests report the container's /etc/os-release, so the image must be a release
the host is not (the host runs bookworm).
"""

from pathlib import Path

from images_cache import PYTHON_KERNEL_DEFINITION, cached_image

# The builder's own kernel test image, one Debian release older.
BULLSEYE_KERNEL_DEFINITION = PYTHON_KERNEL_DEFINITION.replace("OSVersion: bookworm",
                                                              "OSVersion: bullseye")

NO_IPYKERNEL_DEFINITION = """\
Bootstrap: debootstrap
OSVersion: bullseye

%post
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3-minimal
    apt-get clean
    rm -rf /var/lib/apt/lists/*
"""


def bullseye_kernel_image() -> Path:
    """Debian bullseye with python3 and python3-ipykernel."""
    return cached_image(BULLSEYE_KERNEL_DEFINITION)


def no_ipykernel_image() -> Path:
    """Debian bullseye with python3 but without ipykernel."""
    return cached_image(NO_IPYKERNEL_DEFINITION)
