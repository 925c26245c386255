"""Benchmark: time from a kernel start request to its first kernel_info reply, for (a) the
jupytainer provisioner on a SIF image, (b) the same image unpacked and run with bwrap (the
floor for that image), (c) a native ipykernel from the host's virtual environment.

Run as root: /opt/jupytainer/venv/bin/python tests/bench/kernel.py [--repeat N] [--cold N]
The image is the cached python3 + ipykernel test image (tests/images_cache.py), unpacked
once to a sandbox for bwrap. Each measurement is one fresh jupyter_client process run as
root or as the test user, so kernels, mounts and ports never carry over; configurations
are interleaved and medians compared. "warm": the image's files are in the page cache (a
mounted or cached image); "cold": the page cache is dropped before each start (a fresh
start). (a') is (a) with the SIF extracted once into the cache (the unsquash option).
Results: tests/bench/results/kernel.json and kernel.md. Targets: (a)/(b) <= 1.25 cold as a
user; (a')/(b) <= 1.05 warm.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from saved import save_report

HERE = Path(__file__).resolve().parent
TEST_USER = "jupytainer-test"
CONFIGURATIONS = ("a: provisioner, SIF", "b: bwrap, unpacked", "c: native ipykernel",
                  "a': provisioner, SIF extracted once (unsquash)")
TARGET_COLD = 1.25
TARGET_WARM = 1.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="warm starts per configuration")
    parser.add_argument("--cold", type=int, default=3, help="cold starts per configuration")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(_time_one_start(int(args.measure), args.image,
                                                     args.sandbox))))
        return 0

    sys.path.insert(0, str(HERE.parent))
    from images_cache import JUPYTAINER, python_kernel_image

    image = python_kernel_image()
    scratch = Path(tempfile.mkdtemp(prefix="jupytainer-bench-kernel-"))
    os.chmod(scratch, 0o755)
    try:
        sandbox = scratch / "rootfs"
        subprocess.run([str(JUPYTAINER), "-q", "build", "--sandbox", str(sandbox), str(image)],
                       check=True)
        report = _run_all(str(image), str(sandbox), args.repeat, args.cold)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    save_report("kernel", report, _table(report))
    return 0 if report["meets_targets"] else 1


def _run_all(image: str, sandbox: str, repeat: int, cold: int) -> dict:
    report = {"image": image, "repeat": repeat, "cold_repeat": cold, "identities": {}}
    for who in ("root", "user"):
        warm = _series(who, image, sandbox, repeat, drop_caches=False, configs=(0, 1, 2, 3))
        cold_series = _series(who, image, sandbox, cold, drop_caches=True, configs=(0, 1))
        report["identities"][who] = {"warm": warm, "cold": cold_series,
                                     "ratios": _ratios(warm, cold_series)}
    user = report["identities"]["user"]["ratios"]
    root = report["identities"]["root"]["ratios"]
    # Warm: the image mounted or cached; the cached extraction is the configuration for it.
    report["meets_targets"] = (user["cold a/b"] <= TARGET_COLD
                               and max(user["warm a'/b"], root["warm a'/b"]) <= TARGET_WARM)
    return report


def _series(who: str, image: str, sandbox: str, count: int, drop_caches: bool,
            configs: tuple[int, ...]) -> dict:
    """count starts of each configuration, interleaved; the first warm round warms up."""
    seconds = {CONFIGURATIONS[index]: [] for index in configs}
    rounds = count + (0 if drop_caches else 1)
    for number in range(rounds):
        for index in configs:
            if drop_caches:
                subprocess.run(["sync"], check=True)
                Path("/proc/sys/vm/drop_caches").write_text("3\n")
            value = _measure_as(who, index, image, sandbox)
            if drop_caches or number > 0:
                seconds[CONFIGURATIONS[index]].append(value)
    return {name: {"median_seconds": statistics.median(values), "seconds": values}
            for name, values in seconds.items()}


def _measure_as(who: str, index: int, image: str, sandbox: str) -> float:
    command = [sys.executable, __file__, "--measure", str(index), "--image", image,
               "--sandbox", sandbox]
    if who == "user":
        command = ["runuser", "-u", TEST_USER, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd="/tmp",
                            env=_environment(who), timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"measuring {CONFIGURATIONS[index]} as {who} failed:\n"
                           f"{result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def _environment(who: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("APPTAINER", "SINGULARITY", "JUPYTAINER"))}
    if who == "user":
        import pwd

        entry = pwd.getpwnam(TEST_USER)
        env.update(HOME=entry.pw_dir, USER=TEST_USER, LOGNAME=TEST_USER)
    return env


async def _time_one_start(index: int, image: str, sandbox: str) -> float:
    """In the measuring process: start one kernel, wait for kernel_info, shut it down."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    manager = AsyncKernelManager()
    manager._kernel_spec = KernelSpec(**_kernelspec(index, image, sandbox))
    started = time.perf_counter()
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=120)
    elapsed = time.perf_counter() - started
    client.stop_channels()
    await manager.shutdown_kernel()
    return elapsed


def _kernelspec(index: int, image: str, sandbox: str) -> dict:
    argv = ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"display_name": CONFIGURATIONS[index], "language": "python"}
    if index in (0, 3):
        spec["argv"] = ["unused"]
        spec["metadata"] = {"kernel_provisioner": {"provisioner_name": "jupytainer",
                                                   "config": {"image": image,
                                                              "unsquash": index == 3}}}
    elif index == 1:
        spec["argv"] = _bwrap(sandbox) + argv
    else:
        spec["argv"] = [sys.executable] + argv[1:]
    return spec


def _bwrap(sandbox: str) -> list[str]:
    """bwrap with what a kernel needs: the image read-only, /proc, /dev, the host network,
    the directory holding the connection file, and its own PID namespace."""
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = jupyter_runtime_dir()
    os.makedirs(runtime, exist_ok=True)
    # The image is read-only: an empty /root or /home gets the runtime directory's path.
    top = "/" + runtime.split("/")[1]
    return ["bwrap", "--ro-bind", sandbox, "/", "--proc", "/proc", "--dev", "/dev",
            "--bind", "/tmp", "/tmp", "--tmpfs", top, "--bind", runtime, runtime, "--unshare-pid",
            "--die-with-parent", "--setenv", "JPY_PARENT_PID", "1",
            "--setenv", "PYTHONNOUSERSITE", "1"]


def _ratios(warm: dict, cold: dict) -> dict:
    a, b, c, extracted = CONFIGURATIONS
    return {"warm a/b": warm[a]["median_seconds"] / warm[b]["median_seconds"],
            "warm a'/b": warm[extracted]["median_seconds"] / warm[b]["median_seconds"],
            "warm a/c": warm[a]["median_seconds"] / warm[c]["median_seconds"],
            "cold a/b": cold[a]["median_seconds"] / cold[b]["median_seconds"]}


def _table(report: dict) -> str:
    lines = [f"# Kernel start: request to first kernel_info reply (medians; warm n="
             f"{report['repeat']}, cold n={report['cold_repeat']})", "",
             "| identity | cache | configuration | median (s) |", "| --- | --- | --- | --- |"]
    for who, data in report["identities"].items():
        for cache in ("warm", "cold"):
            for name, values in data[cache].items():
                lines.append(f"| {who} | {cache} | {name} | {values['median_seconds']:.3f} |")
    lines += ["", "| identity | warm a/b | warm a'/b | warm a/c | cold a/b |",
              "| --- | --- | --- | --- | --- |"]
    for who, data in report["identities"].items():
        ratios = data["ratios"]
        cells = [ratios[name] for name in ("warm a/b", "warm a'/b", "warm a/c", "cold a/b")]
        lines.append(f"| {who} | " + " | ".join(f"{value:.2f}" for value in cells) + " |")
    lines += ["", f"Targets: cold a/b (user) <= {TARGET_COLD}, warm a'/b <= {TARGET_WARM}; "
              f"met: {report['meets_targets']}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
