"""Test support: Debian's docker-registry started on 127.0.0.1 for the session - one open,
one behind htpasswd basic auth, one behind bearer tokens from a token service the tests run
(as Docker Hub works) - and a small proxy in front of the open one that injects the failures
a real network produces (rate limits, server errors, cut and corrupt downloads)."""

import base64
import http.client
import http.server
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USER, PASSWORD = "alice", "s3cret p@ss"


@dataclass
class Registry:
    host: str
    process: subprocess.Popen
    root: Path
    user: str = ""
    password: str = ""

    def push(self, layout: Path, tag: str, repository: str, *, all_platforms: bool = False):
        from oci_images import skopeo
        extra = ["--all"] if all_platforms else []
        if self.user:
            extra += ["--dest-creds", f"{self.user}:{self.password}"]
        skopeo("copy", "--quiet", "--dest-tls-verify=false", *extra, f"oci:{layout}:{tag}",
               f"docker://{self.host}/{repository}:{tag}")
        return f"docker://{self.host}/{repository}:{tag}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_registry(root: Path, htpasswd: bool = False, token_realm: str = "") -> Registry:
    port = free_port()
    auth = ""
    if token_realm:
        auth = (f"auth:\n  token:\n    realm: {token_realm}\n    service: tests\n"
                f"    issuer: tests\n    rootcertbundle: {root}/token.pem\n")
    if htpasswd:
        hashed = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True,
                                capture_output=True, text=True).stdout
        (root / "htpasswd").write_text(hashed)
        auth = f"auth:\n  htpasswd:\n    realm: tests\n    path: {root}/htpasswd\n"
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                      f"storage:\n  filesystem:\n    rootdirectory: {root}/data\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n{auth}")
    with open(root / "registry.log", "wb") as output:
        process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=output,
                                   stderr=subprocess.STDOUT)
    registry = Registry(f"127.0.0.1:{port}", process, root,
                        *((USER, PASSWORD) if htpasswd or token_realm else ("", "")))
    _wait_until_up(registry)
    return registry


def _wait_until_up(registry: Registry) -> None:
    for _ in range(200):
        if registry.process.poll() is not None:
            raise RuntimeError((registry.root / "registry.log").read_text())
        try:
            urllib.request.urlopen(f"http://{registry.host}/v2/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not start on {registry.host}")


def stop_registry(registry: Registry) -> None:
    registry.process.terminate()
    try:
        registry.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        registry.process.kill()
        registry.process.wait()
    shutil.rmtree(registry.root, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    """An open registry (no authentication) on a free loopback port."""
    root = Path(tempfile.mkdtemp(prefix="jupytainer-registry-"))
    found = start_registry(root)
    yield found
    stop_registry(found)


@pytest.fixture(scope="session")
def auth_registry() -> Iterator[Registry]:
    """A registry that requires basic authentication (htpasswd, bcrypt)."""
    root = Path(tempfile.mkdtemp(prefix="jupytainer-registry-auth-"))
    found = start_registry(root, htpasswd=True)
    yield found
    stop_registry(found)


class TokenService(http.server.ThreadingHTTPServer):
    """Issues the registry's bearer tokens (JWTs signed with openssl): anonymous pulls of
    repositories under public/, anything with the right password."""

    daemon_threads = True

    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), _TokenHandler)
        self.key = root / "token.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        str(self.key), "-out", str(root / "token.pem"), "-subj", "/CN=tests",
                        "-days", "2"], check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", str(root / "token.pem"), "-outform",
                              "DER"], check=True, capture_output=True).stdout
        self.chain = [base64.b64encode(der).decode()]
        self.realm = f"http://127.0.0.1:{self.server_address[1]}/token"

    def token(self, access: list[dict]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.chain}
        claims = {"iss": "tests", "sub": USER, "aud": "tests", "exp": now + 300,
                  "nbf": now - 60, "iat": now, "jti": str(now), "access": access}
        signed = ".".join(_base64url(json.dumps(part).encode()) for part in (header, claims))
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                                   input=signed.encode(), check=True,
                                   capture_output=True).stdout
        return f"{signed}.{_base64url(signature)}"


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        sent = self.headers.get("Authorization")
        if sent is not None and sent != expected:
            self._answer(401, {"details": "wrong user name or password"})
            return
        access = []
        for scope in query.get("scope", []):
            _, name, actions = scope.split(":")
            if sent or name.startswith("public/"):
                access.append({"type": "repository", "name": name,
                               "actions": actions.split(",")})
        self._answer(200, {"token": self.server.token(access)})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="session")
def token_registry() -> Iterator[Registry]:
    """A registry that accepts only bearer tokens from its token service."""
    root = Path(tempfile.mkdtemp(prefix="jupytainer-registry-token-"))
    service = TokenService(root)
    thread = threading.Thread(target=service.serve_forever, daemon=True)
    thread.start()
    found = start_registry(root, token_realm=service.realm)
    yield found
    stop_registry(found)
    service.shutdown()
    service.server_close()


@dataclass
class Faults:
    """What the proxy does to the next requests whose path contains `match`."""

    match: str = ""
    status: int = 0
    times: int = 0
    cut_after: int = -1
    corrupt: bool = False
    retry_after: str = "0"
    seen: list[str] = field(default_factory=list)


class FaultProxy(http.server.ThreadingHTTPServer):
    """A proxy to the registry: requests go through unchanged unless a fault is armed."""

    daemon_threads = True

    def __init__(self, upstream: str):
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream
        self.faults = Faults()
        self.host = f"127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        faults = self.server.faults
        faults.seen.append(f"{self.path} {self.headers.get('Range', '')}".strip())
        armed = faults.match and faults.match in self.path and faults.times > 0
        if armed and faults.status:
            faults.times -= 1
            self.send_response(faults.status)
            self.send_header("Retry-After", faults.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._forward(armed)

    def _forward(self, armed: bool) -> None:
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=30)
        headers = {key: value for key, value in self.headers.items() if key.lower() != "host"}
        upstream.request("GET", self.path, headers=headers)
        reply = upstream.getresponse()
        body = reply.read()
        if armed and self.server.faults.corrupt:
            self.server.faults.times -= 1
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in ("connection", "transfer-encoding"):
                self.send_header(key, value)
        self.end_headers()
        if armed and self.server.faults.cut_after >= 0:
            self.server.faults.times -= 1
            self.wfile.write(body[: self.server.faults.cut_after])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture
def proxy(registry) -> Iterator[FaultProxy]:
    server = FaultProxy(registry.host)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
