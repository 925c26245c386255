"""Benchmark: how long a container takes to start, and to import a large Python package,
under jupytainer and under the tools it is measured against, as root and as a user.

Run as root: /opt/jupytainer/venv/bin/python tests/bench/launch.py [--repeat N]
             [--no-kernel-image]
Start-up: `jupytainer exec IMAGE.sif /bin/true` against `ch-run` on the same squashfs
(Debian's ch-run has no built-in squashfs support, so the partition is mounted with
squashfuse beforehand and ch-run is also timed on the unpacked tree) and against `bwrap` on
the unpacked tree, the practical floor. Import workload: `python3 -c "import ipykernel"` in
the cached python3 + ipykernel test image (tests/images_cache.py), with the squashfs mounted
and from a cached extraction (--unsquash), against bwrap on the same tree unpacked.
Commands run interleaved, `--repeat` times each; medians are compared. The unprivileged
half runs this script again as the test user. Results: tests/bench/results/launch.json and
launch.md. Targets: start-up <= 1.5x ch-run and within 15 ms of bwrap; import <= 1.15x
bwrap mounted and <= 1.05x from a cached extraction.
"""

import argparse
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
sys.path.insert(0, str(HERE.parent))

JUPYTAINER = Path(sys.executable).parent / "jupytainer"
USER = "jupytainer-test"
TARGET_CHRUN_RATIO = 1.5
TARGET_BWRAP_MS = 15.0
TARGET_IMPORT_MOUNTED = 1.15
TARGET_IMPORT_CACHED = 1.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-kernel-image", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(_time_commands(json.loads(options.worker), options.repeat)))
        return 0
    if os.geteuid() != 0:
        parser.error("run as root: the unprivileged half runs as the test user")

    scratch = Path(tempfile.mkdtemp(prefix="jupytainer-bench-launch-"))
    os.chmod(scratch, 0o755)
    mounts: list[Path] = []
    try:
        commands = _startup_commands(scratch, mounts)
        if not options.no_kernel_image:
            commands.update(_import_commands(scratch))
        results = {"root": _time_commands(commands, options.repeat),
                   "user": _as_user(commands, options.repeat, scratch)}
        report = _report(results, options.repeat)
    finally:
        for mount in mounts:
            subprocess.run(["umount", str(mount)], check=False)
        shutil.rmtree(scratch, ignore_errors=True)
    save_report("launch", report, _markdown(report))
    return 0


def _startup_commands(scratch: Path, mounts: list[Path]) -> dict[str, list[str]]:
    """The same busybox tree as a SIF, unpacked, and as a squashfuse mount of the SIF's
    partition (mounted here, as root, for every user)."""
    from images import busybox_rootfs, sif_of

    from jupytainer.runtime.image import resolve_image

    tree = busybox_rootfs(scratch / "tree")
    sif = sif_of(tree, scratch / "busybox.sif")
    mounted = scratch / "squashfuse-mount"
    mounted.mkdir()
    offset = resolve_image(sif).partition_offset
    subprocess.run(["squashfuse", "-o", f"offset={offset},allow_other", str(sif),
                    str(mounted)], check=True)
    mounts.append(mounted)
    return {
        "start: jupytainer exec SIF": [str(JUPYTAINER), "exec", str(sif), "/bin/true"],
        "start: jupytainer exec sandbox": [str(JUPYTAINER), "exec", str(tree), "/bin/true"],
        "start: ch-run squashfs (premounted)": ["ch-run", str(mounted), "--", "/bin/true"],
        "start: ch-run unpacked": ["ch-run", str(tree), "--", "/bin/true"],
        "start: bwrap unpacked": _bwrap(tree, "/bin/true"),
        # The floor of any launcher written in Python: the interpreter, with site, doing nothing.
        "floor: python -c pass": [sys.executable, "-c", "pass"],
    }


def _import_commands(scratch: Path) -> dict[str, list[str]]:
    from images_cache import python_kernel_image

    from jupytainer.runtime.image import resolve_image

    image = python_kernel_image()
    tree = scratch / "kernel-tree"
    offset = resolve_image(image).partition_offset
    subprocess.run(["unsquashfs", "-quiet", "-no-progress", "-o", str(offset), "-d",
                    str(tree), str(image)], check=True, capture_output=True)
    os.chmod(tree, 0o755)
    payload = ["python3", "-c", "import ipykernel"]
    return {
        "import: jupytainer exec SIF": [str(JUPYTAINER), "exec", str(image), *payload],
        "import: jupytainer exec --unsquash": [str(JUPYTAINER), "exec", "--unsquash",
                                               str(image), *payload],
        "import: bwrap unpacked": _bwrap(tree, *payload),
    }


def _bwrap(tree: Path, *argv: str) -> list[str]:
    return ["bwrap", "--ro-bind", str(tree), "/", "--proc", "/proc", "--dev", "/dev",
            "--unshare-pid", "--setenv", "PATH", "/usr/bin:/bin", *argv]


def _time_commands(commands: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Seconds of each run, the commands interleaved so that drift hits all alike."""
    env = dict(os.environ, USER=os.environ.get("USER") or _user_name())
    timings: dict[str, list[float]] = {name: [] for name in commands}
    for name, argv in commands.items():  # warm caches, and extract for --unsquash
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    for _ in range(repeat):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            timings[name].append(time.perf_counter() - started)
    return timings


def _user_name() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _as_user(commands: dict[str, list[str]], repeat: int, scratch: Path):
    """The same measurements as the unprivileged test user, from its own home."""
    import pwd

    home = pwd.getpwnam(USER).pw_dir
    argv = ["runuser", "-u", USER, "--", sys.executable, str(Path(__file__).resolve()),
            "--repeat", str(repeat), "--worker", json.dumps(commands)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "USER": USER}
    result = subprocess.run(argv, env=env, cwd=home, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


def _report(results: dict[str, dict[str, list[float]]], repeat: int) -> dict:
    report: dict = {"repeat": repeat, "cpus": os.cpu_count(), "machine": os.uname().machine,
                    "load_average": os.getloadavg()[0], "identities": {}}
    for identity, timings in results.items():
        medians = {name: statistics.median(values) for name, values in timings.items()}
        ours = medians["start: jupytainer exec SIF"]
        summary = {
            "median_seconds": medians,
            "runs_seconds": timings,
            "ratio_vs_ch_run_squashfs": ours / medians["start: ch-run squashfs (premounted)"],
            "ratio_vs_ch_run_unpacked": ours / medians["start: ch-run unpacked"],
            "ms_over_bwrap": (ours - medians["start: bwrap unpacked"]) * 1000,
            "sandbox_ms_over_bwrap": (medians["start: jupytainer exec sandbox"]
                                      - medians["start: bwrap unpacked"]) * 1000,
        }
        if "import: bwrap unpacked" in medians:
            floor = medians["import: bwrap unpacked"]
            summary["import_ratio_mounted"] = medians["import: jupytainer exec SIF"] / floor
            summary["import_ratio_cached"] = (
                medians["import: jupytainer exec --unsquash"] / floor)
        report["identities"][identity] = summary
    return report


def _markdown(report: dict) -> str:
    lines = [f"# Container start-up and import time ({report['machine']}, "
             f"{report['cpus']} CPUs, median of {report['repeat']} runs)", "",
             f"Load average when it ended: {report['load_average']:.1f}.", ""]
    for identity, summary in report["identities"].items():
        lines += [f"## as {identity}", "", "| command | median ms |", "| --- | --- |"]
        for name, seconds in summary["median_seconds"].items():
            lines.append(f"| {name} | {seconds * 1000:.1f} |")
        lines += ["",
                  f"- jupytainer / ch-run (premounted squashfs): "
                  f"{summary['ratio_vs_ch_run_squashfs']:.2f} (target <= {TARGET_CHRUN_RATIO})",
                  f"- jupytainer / ch-run (unpacked): {summary['ratio_vs_ch_run_unpacked']:.2f}",
                  f"- jupytainer - bwrap: {summary['ms_over_bwrap']:.1f} ms "
                  f"(target <= {TARGET_BWRAP_MS})",
                  f"- jupytainer on the sandbox - bwrap: {summary['sandbox_ms_over_bwrap']:.1f} ms"]
        if "import_ratio_mounted" in summary:
            lines += [f"- import ipykernel, squashfs mounted / bwrap: "
                      f"{summary['import_ratio_mounted']:.2f} "
                      f"(target <= {TARGET_IMPORT_MOUNTED})",
                      f"- import ipykernel, cached extraction / bwrap: "
                      f"{summary['import_ratio_cached']:.2f} "
                      f"(target <= {TARGET_IMPORT_CACHED})"]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
