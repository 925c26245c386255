"""Registry credentials, looked up where users already keep them: explicit login, then
environment variables, then the Docker and Podman auth files; and the parsing of the
`WWW-Authenticate` challenge a registry answers an unauthenticated request with."""

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from jupytainer.runtime import log
from jupytainer.runtime.oci.reference import DOCKER_HUB

_ENV_PREFIXES = ("JUPYTAINER_DOCKER_", "APPTAINER_DOCKER_", "SINGULARITY_DOCKER_")
_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io",
             "registry-1.docker.io")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    origin: str

    def basic_header(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()


def find_credentials(registry: str, login: tuple[str, str] | None = None) -> Credentials | None:
    """The first credentials that apply to `registry` (as written in the reference)."""
    if login is not None:
        return Credentials(login[0], login[1], "--docker-login")
    for prefix in _ENV_PREFIXES:
        username = os.environ.get(prefix + "USERNAME")
        if username:
            return Credentials(username, os.environ.get(prefix + "PASSWORD", ""),
                               f"{prefix}USERNAME/PASSWORD")
    for path in auth_files():
        found = _from_auth_file(path, registry)
        if found is not None:
            return found
    return None


def auth_files() -> list[Path]:
    """The auth files Podman, skopeo and Docker write, in the order Podman reads them."""
    files = []
    if os.environ.get("REGISTRY_AUTH_FILE"):
        files.append(Path(os.environ["REGISTRY_AUTH_FILE"]))
    if os.environ.get("XDG_RUNTIME_DIR"):
        files.append(Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    files.append(config_home / "containers" / "auth.json")
    docker_config = os.environ.get("DOCKER_CONFIG")
    files.append(Path(docker_config) / "config.json" if docker_config
                 else Path.home() / ".docker" / "config.json")
    apptainer = os.environ.get("APPTAINER_CONFIGDIR") or Path.home() / ".apptainer"
    files.append(Path(apptainer) / "docker-config.json")
    return files


def _from_auth_file(path: Path, registry: str) -> Credentials | None:
    try:
        auths = json.loads(path.read_text()).get("auths", {})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as problem:
        log.warning(f"ignoring the registry auth file {path}: {problem}")
        return None
    for key, entry in auths.items():
        if _host_of(key) in _keys_for(registry) and isinstance(entry, dict):
            decoded = _decode_auth(entry.get("auth", ""))
            if decoded is not None:
                return Credentials(*decoded, str(path))
    # Limitation: credential helpers (credHelpers, credsStore) and identity tokens are not
    # consulted; `docker login` with a helper configured stores nothing readable here.
    return None


def _keys_for(registry: str) -> set[str]:
    if registry == DOCKER_HUB:
        return {_host_of(key) for key in _HUB_KEYS}
    return {registry}


def _host_of(key: str) -> str:
    key = re.sub(r"^[a-z]+://", "", key)
    return key.split("/", 1)[0]


def _decode_auth(value: str) -> tuple[str, str] | None:
    try:
        username, colon, password = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (username, password) if colon else None


@dataclass(frozen=True)
class Challenge:
    scheme: str
    parameters: dict[str, str]


def parse_challenge(header: str) -> Challenge:
    """`Bearer realm="https://auth",service="reg",scope="..."` -> its scheme and parameters."""
    scheme, _, rest = header.strip().partition(" ")
    pairs = re.findall(r'([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', rest)
    parameters = {name.lower(): quoted or bare for name, quoted, bare in pairs}
    return Challenge(scheme.lower(), parameters)
