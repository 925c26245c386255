"""The image's labels.json: labels already in the image, those `%post` wrote to
$APPTAINER_LABELS, the build's own labels, then `%labels`, merged in Apptainer's order."""

import json
import time
from pathlib import Path

from jupytainer import __version__
from jupytainer.runtime import log
from jupytainer.runtime.build import layout, paths
from jupytainer.runtime.image import host_arch

LABELS_FILE = f"{layout.META}/labels.json"
POST_LABELS_FILE = ".build.labels"
HELP_FILE = "/.singularity.d/runscript.help"


def build_labels(header: dict[str, str], created: float, has_help: bool,
                 update: bool, base: tuple[str, str] | None = None) -> dict[str, str]:
    """The labels every build writes; `created` is the build time (SOURCE_DATE_EPOCH when
    set, so that reproducible builds write the same labels); base is the OCI image's name
    and digest when the stage started from one."""
    moment = time.gmtime(created)
    labels = {
        "org.label-schema.schema-version": "1.0",
        "org.opencontainers.image.created": time.strftime("%Y-%m-%dT%H:%M:%SZ", moment),
        "org.label-schema.build-date": _build_date(moment),
        "org.label-schema.usage.apptainer.version": f"jupytainer-{__version__}",
        "org.opencontainers.image.architecture": host_arch(),
        "org.label-schema.build-arch": host_arch(),
    }
    if has_help:
        labels["org.label-schema.usage"] = HELP_FILE
        labels["org.label-schema.usage.apptainer.runscript.help"] = HELP_FILE
    if base:
        labels["org.opencontainers.image.base.name"] = base[0]
        labels["org.opencontainers.image.base.digest"] = base[1]
    if not update:
        for key, value in header.items():
            labels[f"org.label-schema.usage.singularity.deffile.{key}"] = value
    return labels


def _build_date(moment: time.struct_time) -> str:
    """Apptainer's build-date: Weekday_day_Month_year_hour:minute:second_zone, in which
    only the hour is zero-padded."""
    return (f"{time.strftime('%A', moment)}_{moment.tm_mday}_{time.strftime('%B', moment)}_"
            f"{moment.tm_year}_{moment.tm_hour:02d}:{moment.tm_min}:{moment.tm_sec}_UTC")


def write_labels(rootfs: Path, build: dict[str, str], defined: dict[str, str],
                 force: bool) -> dict[str, str]:
    """Merge the four sources into labels.json (tab-indented, keys sorted) and return it."""
    labels = read_labels(rootfs)
    labels.update(_post_labels(rootfs))
    labels.update(build)
    for key, value in defined.items():
        if key in labels and not force:
            log.warning(f"Label: {key} already exists and force option is false, "
                        "not overwriting")
            continue
        labels[key] = value
    layout.write(rootfs, LABELS_FILE, to_json(labels), 0o644)
    return labels


def to_json(labels: dict[str, str]) -> str:
    return json.dumps(labels, indent="\t", sort_keys=True, ensure_ascii=False)


def read_labels(rootfs: Path) -> dict[str, str]:
    target = paths.inside(rootfs, LABELS_FILE)
    try:
        loaded = json.loads(target.read_text())
    except (OSError, ValueError):
        return {}
    return {str(key): str(value) for key, value in loaded.items()} if isinstance(
        loaded, dict) else {}


def parse_label_lines(text: str) -> dict[str, str]:
    """`KEY VALUE` lines (split at the first space only; blank and # lines skipped)."""
    labels = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        labels[key] = value.strip()
    return labels


def _post_labels(rootfs: Path) -> dict[str, str]:
    target = paths.inside(rootfs, POST_LABELS_FILE)
    try:
        text = target.read_text()
    except OSError:
        return {}
    target.unlink()
    return parse_label_lines(text)
