"""What one build is asked to do (the `build` command's flags), and the state its stages
share: the root filesystem of each stage built so far."""

from dataclasses import dataclass, field
from pathlib import Path

from jupytainer.runtime.deffile.model import Definition
from jupytainer.runtime.errors import JupytainerError

SECTIONS = ("setup", "post", "files", "environment", "test", "labels", "help", "runscript",
            "startscript", "pre")


@dataclass
class BuildOptions:
    """The flags of `jupytainer build`, with Apptainer's meanings."""

    target: Path
    source: str
    sandbox: bool = False
    force: bool = False
    update: bool = False
    notest: bool = False
    sections: list[str] = field(default_factory=lambda: ["all"])
    build_args: list[str] = field(default_factory=list)
    build_arg_files: list[str] = field(default_factory=list)
    fix_perms: bool = False
    binds: list[str] = field(default_factory=list)
    mksquashfs_args: str = ""

    def __post_init__(self) -> None:
        self.sections = [name.strip().lower() for entry in self.sections
                         for name in entry.split(",") if name.strip()] or ["all"]
        special = {"all", "none"} & set(self.sections)
        if special and len(self.sections) > 1:
            raise JupytainerError(f"--section {special.pop()} cannot be combined with other "
                                  "sections: give either it alone or a list of sections")
        unknown = set(self.sections) - {"all", "none", *SECTIONS}
        if unknown:
            raise JupytainerError(f"--section: unknown section {sorted(unknown)[0]}: choose "
                                  f"from {', '.join(SECTIONS)}, all, none")

    def runs(self, section: str) -> bool:
        """Whether --section lets this section run."""
        return "all" in self.sections or section in self.sections


@dataclass
class BuildContext:
    """One build in progress."""

    options: BuildOptions
    definition: Definition
    epoch: int | None
    """SOURCE_DATE_EPOCH, when set: the build's time, for reproducible output."""
    created: float
    staging: Path
    """A private directory for files the build hands to its containers."""
    stage_roots: dict[str, Path] = field(default_factory=dict)
    oci_config: dict | None = None
    """The current stage's OCI image config (`Bootstrap: docker` and the like), else None."""
    oci_base: tuple[str, str] | None = None
    """That image's name and digest, for the base-image labels."""
