"""A multi-stage build: a Debian stage with a compiler builds a program, a busybox stage
takes only the binary (`%files from build`), and the result is small and works."""

import pytest

from build_support import built
from images_cache import cached_image

BUILD_STAGE = """\
Bootstrap: debootstrap
OSVersion: bookworm
Include: g++
Stage: build

%post
    mkdir -p /src
    cat > /src/km2m.cpp <<'SOURCE'
#include <cstdlib>
#include <iostream>

// Kilometres on the command line, metres on standard output.
int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: km2m KILOMETRES" << std::endl;
        return 2;
    }
    std::cout << std::strtod(argv[1], nullptr) * 1000 << std::endl;
    return 0;
}
SOURCE
    mkdir -p /opt/km2m/bin
    g++ -static -O2 -o /opt/km2m/bin/km2m /src/km2m.cpp
    ln -s km2m /opt/km2m/bin/kilometres-to-metres
"""

FINAL_STAGE = """
Bootstrap: busybox
MirrorURL: file:///bin/busybox

%files from build
    /opt/km2m

%runscript
    exec /opt/km2m/bin/kilometres-to-metres "$@"
"""


@pytest.mark.slow
def test_final_stage_keeps_only_the_binary(identity):
    image = built(identity, BUILD_STAGE + FINAL_STAGE)
    whole_build_stage = cached_image(BUILD_STAGE)

    converted = identity.jupytainer("run", image, "1.25")
    link = identity.jupytainer("exec", image, "readlink", "/opt/km2m/bin/kilometres-to-metres")
    source = identity.jupytainer("exec", image, "ls", "/src")

    assert converted.stdout == "1250\n", converted.stderr
    assert link.stdout == "km2m\n", link.stderr
    assert source.returncode != 0
    assert image.stat().st_size * 10 < whole_build_stage.stat().st_size
