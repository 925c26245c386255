"""Benchmark: an image in the local registry unpacked to a sandbox by `jupytainer pull
--sandbox`, against `skopeo copy` to an OCI layout followed by `umoci unpack`, side by side.

Run as root: /opt/jupytainer/venv/bin/python tests/bench/pull.py [--repeat N]
The image is made from this machine's /usr/lib/python3.11 and /usr/share/doc (many small
files, as real images have) in two gzip layers plus a third with whiteouts, pushed with
skopeo to docker-registry on 127.0.0.1. Each run starts with an empty blob cache, so both
sides download everything. Runs are interleaved and repeated; the median is kept. Results go
to tests/bench/results/pull.json and pull.md; the target is a ratio of at most 1.0.
"""

import argparse
import json
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

from oci_images import Layout, file, sha256, tar  # noqa: E402
from oci_registry import start_registry, stop_registry  # noqa: E402

JUPYTAINER = Path(sys.executable).parent / "jupytainer"
TREES = ("/usr/lib/python3.11", "/usr/share/doc")
TARGET_RATIO = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat

    scratch = Path(tempfile.mkdtemp(prefix="jupytainer-bench-pull-"))
    registry = start_registry(_directory(scratch / "registry"))
    try:
        source, image_bytes = _push(scratch, registry)
        results = {"jupytainer pull --sandbox": [], "skopeo copy + umoci unpack": []}
        for _ in range(repeat):
            results["jupytainer pull --sandbox"].append(_jupytainer(scratch, source))
            results["skopeo copy + umoci unpack"].append(_skopeo_umoci(scratch, source))
        report = _report(results, image_bytes)
    finally:
        stop_registry(registry)
        shutil.rmtree(scratch, ignore_errors=True)

    save_report("pull", report, _table(report))
    return 0 if report["meets_target"] else 1


def _directory(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _push(scratch: Path, registry) -> tuple[str, int]:
    """Two gzip layers of real trees and a third that deletes and replaces some files."""
    layout = Layout(scratch / "layout")
    blobs = [_tree_layer(tree) for tree in TREES]
    whiteouts = tar([file("usr/share/doc/.wh.bash"), file("usr/lib/python3.11/.wh.json"),
                     file("usr/share/doc/README.bench", "replaced")])
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": layout.blob(json.dumps({
                    "architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                    "rootfs": {"type": "layers", "diff_ids": [
                        *(digest for _, digest in blobs), sha256(whiteouts)]}}).encode(),
                    "application/vnd.oci.image.config.v1+json"),
                "layers": [layout.blob(data, "application/vnd.oci.image.layer.v1.tar+gzip")
                           for data, _ in blobs]
                + [layout.blob(whiteouts, "application/vnd.oci.image.layer.v1.tar")]}
    layout.tag(layout.blob(json.dumps(manifest).encode(), manifest["mediaType"]), "bench")
    return registry.push(layout.path, "bench", "bench/image"), sum(
        layer["size"] for layer in manifest["layers"])


def _tree_layer(tree: str) -> tuple[bytes, str]:
    """A gzip layer of a host tree, made by GNU tar and gzip (fast), and its diff_id."""
    plain = subprocess.run(["tar", "-C", "/", "--numeric-owner", "-cf", "-",
                            tree.lstrip("/")], check=True, capture_output=True).stdout
    packed = subprocess.run(["gzip", "-6", "-n"], input=plain, check=True,
                            capture_output=True).stdout
    return packed, sha256(plain)


def _jupytainer(scratch: Path, source: str) -> float:
    target, cache = scratch / "sandbox", scratch / "cache"
    env = {**os.environ, "JUPYTAINER_CACHEDIR": str(cache)}
    started = time.perf_counter()
    subprocess.run([str(JUPYTAINER), "-q", "pull", "--sandbox", str(target), source],
                   check=True, env=env)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    shutil.rmtree(cache)
    return elapsed


def _skopeo_umoci(scratch: Path, source: str) -> float:
    layout, bundle = scratch / "copied", scratch / "bundle"
    started = time.perf_counter()
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false",
                    source, f"oci:{layout}:bench"], check=True)
    subprocess.run(["umoci", "--log", "error", "unpack", "--image", f"{layout}:bench",
                    str(bundle)], check=True)
    elapsed = time.perf_counter() - started
    shutil.rmtree(layout)
    shutil.rmtree(bundle)
    return elapsed


def _report(results: dict, image_bytes: int) -> dict:
    ours, theirs = (statistics.median(times) for times in results.values())
    return {"image": f"{' + '.join(TREES)} in two gzip layers, plus a whiteout layer",
            "compressed_bytes": image_bytes,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "seconds": results, "ratio": ours / theirs, "meets_target": ours / theirs <=
            TARGET_RATIO}


def _table(report: dict) -> str:
    lines = [f"# Pull to a sandbox: {report['image']} "
             f"({report['compressed_bytes'] / 2**20:.0f} MiB compressed), {report['machine']}",
             "", "| tool | seconds (median) | runs |", "| --- | --- | --- |"]
    for name, times in report["seconds"].items():
        lines.append(f"| {name} | {statistics.median(times):.2f} | "
                     f"{', '.join(f'{value:.2f}' for value in times)} |")
    lines += ["", f"ratio jupytainer / (skopeo + umoci): {report['ratio']:.2f} "
              f"(target: <= {TARGET_RATIO})", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
