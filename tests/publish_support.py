"""Helpers of the publishing tests: notebooks written with nbformat, the "1.1 vs 1.2"
images (one small module whose function changes a result by 1%), and bundles rewritten
with one byte changed."""

import io
import tarfile
from pathlib import Path

import nbformat
import zstandard
from images_cache import cached_image, python_kernel_image

# The module of a "package" whose version 1.2 changes the calibration by 1%.
_CALIBRATION = """\
Bootstrap: localimage
From: {base}

%post
    mkdir -p /usr/local/lib/python3/dist-packages
    cat > /usr/local/lib/python3/dist-packages/calibration.py <<'PY'
VERSION = "{version}"

def calibrate(value):
    return round(value * {factor}, 6)
PY

%environment
    export PYTHONPATH=/usr/local/lib/python3/dist-packages

%labels
    org.jupytainer.test.calibration {version}
"""

# Cells of the analysis notebook: only the third depends on the calibration's result.
ANALYSIS_CELLS = [
    "print('analysis of run 7')",
    "import calibration",
    "print(calibration.calibrate(100.0))",
    "print(sum(range(10)))",
]


def calibration_image(version: str) -> Path:
    """An image with calibration VERSION 1.1 (factor 1) or 1.2 (factor 1.01)."""
    factor = {"1.1": "1.0", "1.2": "1.01"}[version]
    return cached_image(_CALIBRATION.format(base=python_kernel_image(), version=version,
                                            factor=factor))


def write_notebook(path: Path, sources: list[str], kernel_name: str | None = None) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    if kernel_name:
        notebook.metadata["kernelspec"] = {"name": kernel_name, "display_name": kernel_name,
                                           "language": "python"}
    nbformat.write(notebook, path)
    return path


def tampered_copy(bundle: Path, member_suffix: str, target: Path) -> Path:
    """A copy of bundle with one byte of the member ending in member_suffix changed."""
    raw = zstandard.ZstdDecompressor().stream_reader(bundle.open("rb")).read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(member_suffix))
    data = bytearray(raw)
    position = member.offset_data + member.size // 2
    data[position] ^= 0x01
    target.write_bytes(zstandard.ZstdCompressor().compress(bytes(data)))
    return target


def bundle_of(members: dict[str, bytes], target: Path) -> Path:
    """A .tar.zst holding exactly members (name -> content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    target.write_bytes(zstandard.ZstdCompressor().compress(buffer.getvalue()))
    return target
