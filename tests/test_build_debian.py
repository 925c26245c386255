"""Debian images built with debootstrap from the mirror apt is configured with, with
packages installed in `%post`, then run: as root and as an unprivileged user."""

import pytest

from build_support import built, partition_file, partition_listing
from images_cache import cached_image, python_kernel_image

BULLSEYE = """\
Bootstrap: debootstrap
OSVersion: bullseye

%runscript
    . /etc/os-release
    echo "$VERSION_CODENAME $(bash --version | head -n 1)"
"""


@pytest.mark.slow
def test_bookworm_with_ipykernel_runs_python(identity):
    image = python_kernel_image()

    result = identity.jupytainer("exec", image, "python3", "-c",
                                 "import ipykernel, sys; print(ipykernel.__version__)")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.slow
def test_older_release_runs_on_this_host(identity):
    image = cached_image(BULLSEYE)

    result = identity.jupytainer("run", image)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("bullseye GNU bash, version 5.1")


@pytest.mark.slow
def test_debootstrap_build_with_apt_in_post_under_bash(identity):
    image = built(identity, """
        Bootstrap: debootstrap
        OSVersion: bookworm
        Include: ca-certificates

        %post -c /bin/bash
            export DEBIAN_FRONTEND=noninteractive
            apt-get update
            apt-get install -y --no-install-recommends hello
            hello > /greeting
            packages=(hello ca-certificates)
            [[ ${#packages[@]} -eq 2 ]] && echo "bash ${BASH_VERSINFO[0]}" > /shell
        """)

    assert partition_file(image, "/greeting") == "Hello, world!\n"
    assert partition_file(image, "/shell") == "bash 5\n"
    owners = {line.split()[1] for line in partition_listing(image).splitlines() if line}
    assert {"root/root", "_apt/root", "root/shadow"} <= owners
    assert "debootstrap" in partition_file(image, "/.singularity.d/Singularity")
