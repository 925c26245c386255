"""Image references as Docker writes them (`[registry/]repository[:tag][@digest]`), with
Docker Hub's defaults and the `Registry:`/`Namespace:` headers of a definition file."""

import re
from dataclasses import dataclass

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci.digests import check_digest

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?")


@dataclass(frozen=True)
class ImageReference:
    """A resolved reference: `registry` is as written (`docker.io` for Docker Hub)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """The host:port the distribution API answers on."""
        return DOCKER_HUB_API if self.registry in _HUB_ALIASES else self.registry

    @property
    def reference(self) -> str:
        """What goes after /manifests/: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def compose(name: str, registry: str = "", namespace: str = "") -> str:
    """A definition file's `From:` with its `Registry:` and `Namespace:` prepended."""
    parts = [part.strip("/") for part in (registry, namespace) if part and part.strip("/")]
    return "/".join([*parts, name.lstrip("/")])


def parse_reference(text: str) -> ImageReference:
    """Parse `docker://`-less `text`; a one-word Docker Hub name gets `library/` and `latest`."""
    if text.startswith("docker://"):
        text = text[len("docker://"):]
    original = text
    name, digest = _split_digest(text, original)
    name, tag = _split_tag(name, original)
    registry, repository = _split_registry(name)
    for component in repository.split("/"):
        if not _COMPONENT.fullmatch(component):
            raise JupytainerError(f"invalid image reference '{original}': '{component}' is not a "
                                  "valid repository name (lower-case letters, digits, . _ -)")
    if tag is None and digest is None:
        tag = "latest"
    return ImageReference(registry, repository, tag, digest)


def _split_digest(text: str, original: str) -> tuple[str, str | None]:
    name, at, digest = text.partition("@")
    if not at:
        return text, None
    check_digest(digest, f"digest in image reference '{original}'")
    return name, digest


def _split_tag(name: str, original: str) -> tuple[str, str | None]:
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return name, None
    tag = last.rsplit(":", 1)[1]
    if not _TAG.fullmatch(tag):
        raise JupytainerError(f"invalid image reference '{original}': bad tag '{tag}'")
    return name[: -len(tag) - 1], tag


def _split_registry(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    looks_like_host = "." in first or ":" in first or first == "localhost"
    if slash and looks_like_host:
        if not _HOST.fullmatch(first):
            raise JupytainerError(f"invalid registry host '{first}' in image reference '{name}'")
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    if not repository:
        raise JupytainerError(f"invalid image reference '{name}': no repository name")
    return registry, repository
