"""Test support: layers and OCI image layouts made from scratch with tarfile, so each test
shows exactly what an image holds; and helpers to copy them with skopeo."""

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

LAYER_TYPES = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
               "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
               None: "application/vnd.oci.image.layer.v1.tar"}
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"


def member(name: str, kind: bytes = tarfile.REGTYPE, *, data: bytes = b"", mode: int = 0o644,
           link: str = "", uid: int = 0, gid: int = 0, mtime: int = 1_700_000_000,
           major: int = 0, minor: int = 0) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, link
    info.uid, info.gid, info.mtime = uid, gid, mtime
    info.devmajor, info.devminor = major, minor
    info.size = len(data) if kind in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    return info, data


def file(name: str, data: bytes | str = b"", mode: int = 0o644, **kwargs):
    return member(name, data=data.encode() if isinstance(data, str) else data, mode=mode,
                  **kwargs)


def directory(name: str, mode: int = 0o755, **kwargs):
    return member(name, tarfile.DIRTYPE, mode=mode, **kwargs)


def symlink(name: str, target: str):
    return member(name, tarfile.SYMTYPE, link=target, mode=0o777)


def hardlink(name: str, target: str):
    return member(name, tarfile.LNKTYPE, link=target)


def device(name: str, major: int = 1, minor: int = 3):
    return member(name, tarfile.CHRTYPE, mode=0o666, major=major, minor=minor)


def tar(entries) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def compress(data: bytes, compression: str | None) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Layer:
    entries: list
    compression: str | None = "gzip"

    @property
    def plain(self) -> bytes:
        return tar(self.entries)

    @property
    def blob(self) -> bytes:
        return compress(self.plain, self.compression)


@dataclass
class Config:
    env: list[str] = field(default_factory=lambda: ["PATH=/usr/bin:/bin"])
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    architecture: str = "amd64"


class Layout:
    """An OCI image layout directory under construction."""

    def __init__(self, path: Path):
        self.path = path
        (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        self.entries: list[dict] = []

    def blob(self, data: bytes, media_type: str) -> dict:
        digest = sha256(data)
        (self.path / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(self, layers: list[Layer], config: Config | None = None) -> dict:
        config = config or Config()
        document = {"architecture": config.architecture, "os": "linux",
                    "config": {"Env": config.env, "Entrypoint": config.entrypoint,
                               "Cmd": config.cmd, "Labels": config.labels,
                               "WorkingDir": config.working_dir},
                    "rootfs": {"type": "layers",
                               "diff_ids": [sha256(layer.plain) for layer in layers]}}
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                    "config": self.blob(json.dumps(document).encode(), CONFIG),
                    "layers": [self.blob(layer.blob, LAYER_TYPES[layer.compression])
                               for layer in layers]}
        descriptor = self.blob(json.dumps(manifest).encode(), MANIFEST)
        descriptor["platform"] = {"architecture": config.architecture, "os": "linux"}
        return descriptor

    def index(self, manifests: list[dict]) -> dict:
        document = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}
        return self.blob(json.dumps(document).encode(), INDEX)

    def tag(self, descriptor: dict, name: str) -> "Layout":
        entry = {key: value for key, value in descriptor.items() if key != "platform"}
        entry["annotations"] = {"org.opencontainers.image.ref.name": name}
        self.entries.append(entry)
        (self.path / "index.json").write_text(json.dumps(
            {"schemaVersion": 2, "mediaType": INDEX, "manifests": self.entries}))
        return self


def skopeo(*args: str) -> None:
    result = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


UNPACK = """
import json, sys
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci.unpack import unpack_image
try:
    config = unpack_image(sys.argv[1], sys.argv[2], **json.loads(sys.argv[3]))
except JupytainerError as failure:
    print("FAILED:", failure, file=sys.stderr)
    sys.exit(1)
print(json.dumps({"digest": config.base_digest, "cmd": config.cmd}))
"""


def unpack_as(identity, source: str, rootfs: Path, env: dict | None = None, **options):
    """unpack_image run as the identity (root or the unprivileged user), in a fresh process;
    the blob cache goes to the identity's work directory."""
    import sys
    env = {"JUPYTAINER_CACHEDIR": str(identity.workdir / "cache"), **(env or {})}
    return identity.run([sys.executable, "-c", UNPACK, source, str(rootfs),
                         json.dumps(options)], env=env)


def single_image(path: Path, layers: list[Layer], config: Config | None = None,
                 tag: str = "latest") -> str:
    """An OCI layout at `path` holding one image; returns its `oci:` source."""
    layout = Layout(path)
    layout.tag(layout.image(layers, config), tag)
    return f"oci:{path}"


def failure(result) -> str:
    """The message of an unpacking that failed as a user mistake should (see UNPACK)."""
    assert result.returncode == 1, result.stderr
    return result.stderr.split("FAILED: ", 1)[1].strip()
