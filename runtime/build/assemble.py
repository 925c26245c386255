"""The last stage's root filesystem made into the build's output: a SIF file (definition,
inspect metadata, squashfs partition, in Apptainer's order) or a sandbox directory.

Neither appears under the target's name before it is complete: the SIF is written under a
temporary name beside the target and renamed, the sandbox is built beside the target and
renamed onto it.
"""

import json
import os
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.build import inspect_json, workspace
from jupytainer.runtime.build.arch import rootfs_arch
from jupytainer.runtime.build.squash import squash
from jupytainer.runtime.sif import DataType, FsType, ObjectInput, PartitionInfo, PartType, creating

LAUNCH_SCRIPT = b"#!/usr/bin/env run-singularity\n"


def write_sif(rootfs: Path, target: Path, definition: bytes, scratch: Path, *,
              mksquashfs_args: str = "", epoch: int | None = None,
              oci_config: dict | None = None) -> None:
    """Squash rootfs (into the scratch directory) and write the SIF at target; an image
    from an OCI source also keeps its image config as oci-config.json."""
    log.info("Creating SIF file...")
    partition = scratch / "rootfs.squashfs"
    squash(rootfs, partition, extra_args=mksquashfs_args, epoch=epoch)
    documents = {"inspect-metadata.json": inspect_json.inspect_metadata(rootfs)}
    if oci_config is not None:
        documents["oci-config.json"] = json.dumps(oci_config).encode()

    options = {"launch_script": LAUNCH_SCRIPT}
    if epoch is not None:
        options.update(deterministic=True, created_at=epoch)
    with creating(target, **options) as sif:
        sif.add_object(ObjectInput(DataType.DEFFILE, definition))
        for name in sorted(documents):
            sif.add_object(ObjectInput(DataType.GENERIC_JSON, documents[name], name=name))
        sif.add_object(ObjectInput(DataType.PARTITION, partition, partition=PartitionInfo(
            FsType.SQUASHFS, PartType.PRIMARY_SYSTEM, rootfs_arch(rootfs))))
    os.chmod(target, 0o755)


def place_sandbox(rootfs: Path, target: Path, space: workspace.Workspace) -> None:
    """Rename the finished rootfs (built beside the target) onto the target's name,
    replacing a previous target only now that the new one is complete."""
    if os.path.lexists(target):
        workspace.remove_tree(target)
    os.rename(rootfs, target)
    space.forget(rootfs)
    os.chmod(target, 0o755)
