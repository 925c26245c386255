"""Benchmark: the same Debian root filesystem made into a SIF with jupytainer's default
compression (zstd level 3) and with mksquashfs' own default (gzip level 9), side by side.

Run as root: /opt/jupytainer/venv/bin/python tests/bench/build.py [--repeat N]
The root filesystem is the cached python3 + ipykernel test image (tests/images_cache.py),
unpacked once to a sandbox. Two timings per compression, interleaved and repeated (the median
is kept): the squashfs step alone (the only step the choice changes), and the whole
`jupytainer build` of the sandbox into a SIF. Results go to tests/bench/results/build.json and
build.md; the targets are at least 5x faster at no more than 1.15x the size.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from saved import save_report

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from images_cache import JUPYTAINER, python_kernel_image  # noqa: E402

from jupytainer.runtime.build.squash import squash  # noqa: E402

CONFIGURATIONS = {"default (zstd -Xcompression-level 3)": "",
                  "mksquashfs default (gzip level 9)": "-comp gzip"}
TARGET_SPEEDUP = 5.0
TARGET_SIZE_RATIO = 1.15


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat

    scratch = Path(tempfile.mkdtemp(prefix="jupytainer-bench-"))
    try:
        sandbox = _sandbox(scratch)
        results = {name: {"squash_seconds": [], "build_seconds": []}
                   for name in CONFIGURATIONS}
        for _ in range(repeat):
            for name, args in CONFIGURATIONS.items():
                _measure(sandbox, scratch, args, results[name])
        report = _report(sandbox, results)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    save_report("build", report, _table(report))
    return 0 if report["meets_targets"] else 1


def _sandbox(scratch: Path) -> Path:
    sandbox = scratch / "rootfs"
    subprocess.run([str(JUPYTAINER), "-q", "build", "--sandbox", str(sandbox),
                    str(python_kernel_image())], check=True)
    return sandbox


def _measure(sandbox: Path, scratch: Path, args: str, result: dict) -> None:
    output = scratch / "partition.squashfs"
    started = time.perf_counter()
    squash(sandbox, output, extra_args=args)
    result["squash_seconds"].append(time.perf_counter() - started)
    result["squash_bytes"] = output.stat().st_size
    output.unlink()

    image = scratch / "image.sif"
    started = time.perf_counter()
    subprocess.run([str(JUPYTAINER), "-q", "build", "--force", "--mksquashfs-args", args,
                    str(image), str(sandbox)], check=True)
    result["build_seconds"].append(time.perf_counter() - started)
    result["sif_bytes"] = image.stat().st_size
    image.unlink()


def _report(sandbox: Path, results: dict) -> dict:
    ours, gzip = (results[name] for name in CONFIGURATIONS)
    median = statistics.median
    report = {
        "rootfs": "Debian bookworm minbase + python3 + python3-ipykernel",
        "rootfs_bytes": _tree_size(sandbox),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "mksquashfs": subprocess.run(["mksquashfs", "-version"], capture_output=True,
                                     text=True).stdout.splitlines()[0],
        "configurations": results,
        "squash_speedup": median(gzip["squash_seconds"]) / median(ours["squash_seconds"]),
        "build_speedup": median(gzip["build_seconds"]) / median(ours["build_seconds"]),
        "size_ratio": ours["sif_bytes"] / gzip["sif_bytes"],
    }
    report["meets_targets"] = (report["squash_speedup"] >= TARGET_SPEEDUP
                               and report["size_ratio"] <= TARGET_SIZE_RATIO)
    return report


def _tree_size(root: Path) -> int:
    return sum(os.lstat(os.path.join(directory, name)).st_size
               for directory, _, names in os.walk(root) for name in names)


def _table(report: dict) -> str:
    lines = [f"# SIF build: {report['rootfs']} ({report['rootfs_bytes'] / 2**20:.0f} MiB), "
             f"{report['machine']}, {report['mksquashfs']}", "",
             "| compression | squashfs step (s, median) | whole build (s, median) | SIF size "
             "(MiB) |", "| --- | --- | --- | --- |"]
    for name, result in report["configurations"].items():
        lines.append(f"| {name} | {statistics.median(result['squash_seconds']):.2f} | "
                     f"{statistics.median(result['build_seconds']):.2f} | "
                     f"{result['sif_bytes'] / 2**20:.1f} |")
    lines += ["", f"squashfs step: {report['squash_speedup']:.1f}x faster; whole build: "
              f"{report['build_speedup']:.1f}x faster; size: {report['size_ratio']:.3f}x "
              f"(targets: >= {TARGET_SPEEDUP}x faster, <= {TARGET_SIZE_RATIO}x the size)", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
