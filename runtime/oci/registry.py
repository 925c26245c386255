"""A client for the OCI distribution API (what `docker pull` speaks): manifests and blobs of
one repository, with anonymous, bearer-token and basic authentication, retries on transient
failures and one-line messages for the final ones."""

import fcntl
import hashlib
import ipaddress
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from jupytainer.runtime import log
from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci import manifest as media
from jupytainer.runtime.oci.auth import Credentials, find_credentials, parse_challenge
from jupytainer.runtime.oci.blobcache import BlobCache
from jupytainer.runtime.oci.digests import DigestMismatch, check_digest, digest_of, short
from jupytainer.runtime.oci.reference import ImageReference

MAX_MANIFEST_BYTES = 4 << 20
_TRANSIENT = {408, 429, 500, 502, 503, 504}
_CHUNK = 1 << 20

Progress = Callable[[int], None]
Body = bytes | Callable[[], BinaryIO] | None


class RegistryError(JupytainerError):
    """A final failure talking to a registry."""


class BlobMissing(RegistryError):
    """The registry has no such blob (HTTP 404 for a blob)."""


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or "]" in host else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RegistryClient:
    """One repository on one registry. Thread-safe: layers download concurrently."""

    def __init__(self, image: ImageReference, *, login: tuple[str, str] | None = None,
                 nohttps: bool = False, retries: int = 3, backoff: float = 1.0,
                 push: bool = False):
        self.image = image
        self.host = image.api_host
        # Limitation: a registry on this machine is spoken to in plain HTTP, as test and
        # development registries are; one that serves only TLS on loopback is not reached.
        self.scheme = "http" if nohttps or is_loopback(self.host) else "https"
        self.credentials: Credentials | None = find_credentials(image.registry, login)
        self.retries = retries
        self.backoff = backoff
        self.actions = "pull,push" if push else "pull"
        self._authorization: str | None = None
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener()

    def manifest(self, reference: str) -> tuple[bytes, str, str]:
        """The manifest or index named by a tag or digest: (body, media type, digest)."""
        path = f"/v2/{self.image.repository}/manifests/{reference}"
        with self._request(path, {"Accept": ", ".join(media.ACCEPTED)}, "manifest") as reply:
            body = reply.read(MAX_MANIFEST_BYTES + 1)
            kind = reply.headers.get("Content-Type", "").split(";")[0].strip()
        if len(body) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"the manifest of {self.image} is larger than 4 MiB: refusing it")
        digest = digest_of(body)
        if reference.startswith("sha") and digest != reference:
            raise DigestMismatch(f"the manifest of {self.image} hashes to {short(digest)}, not "
                                 f"{short(reference)}: the registry sent other content")
        return body, kind, digest

    def fetch_blob(self, digest: str, size: int, cache: BlobCache,
                   progress: Progress = lambda done: None) -> Path:
        """The blob's path in the cache, downloading it unless it is already there; its
        digest is checked before it is kept. A download cut short (here or in an earlier,
        interrupted pull) resumes where it stopped; a lock on the partial file makes two
        pulls of the same blob wait for each other instead of writing it together."""
        check_digest(digest)
        cached = cache.get(digest)
        if cached is None:
            partial = cache.partial(digest)
            with open(partial, "ab") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                cached = cache.get(digest) or self._download_with_retries(
                    digest, size, partial, cache, progress)
            if cached != partial and partial.exists() and partial.stat().st_size == 0:
                partial.unlink(missing_ok=True)
        progress(size)
        return cached

    def _download_with_retries(self, digest: str, size: int, partial: Path,
                               cache: BlobCache, progress: Progress) -> Path:
        for attempt in range(self.retries + 1):
            try:
                self._download(digest, size, partial, progress)
                break
            except (OSError, urllib.error.URLError) as failure:
                if isinstance(failure, RegistryError):
                    raise
                if attempt == self.retries:
                    raise RegistryError(f"the download of blob {short(digest)} from {self.host} "
                                        f"failed: {_reason(failure)}; run the pull again to "
                                        "resume it") from None
                self._pause(attempt, f"download of {short(digest)} interrupted ({failure})")
        return self._keep(partial, digest, cache)

    def _download(self, digest: str, size: int, partial: Path, progress: Progress) -> None:
        offset = partial.stat().st_size if partial.exists() else 0
        if 0 <= size <= offset:
            return
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        path = f"/v2/{self.image.repository}/blobs/{digest}"
        with self._request(path, headers, f"blob {short(digest)}") as reply:
            if reply.status != 206:
                offset = 0
            with open(partial, "ab" if offset else "wb") as target:
                target.truncate(offset)
                self._copy(reply, target, size, offset, progress)

    def _copy(self, reply, target, size: int, done: int, progress: Progress) -> None:
        while chunk := reply.read(_CHUNK):
            done += len(chunk)
            if size >= 0 and done > size:
                raise RegistryError(f"{self.host} sent more than the {size} bytes the manifest "
                                    "gives for a blob: refusing it")
            target.write(chunk)
            progress(done)
        if 0 <= done < size:
            # http.client returns a short body without complaint when the peer hangs up.
            raise ConnectionError(f"the download stopped after {done} of {size} bytes")

    def _keep(self, partial: Path, digest: str, cache: BlobCache) -> Path:
        algorithm = digest.partition(":")[0]
        hasher = hashlib.new(algorithm)
        with open(partial, "rb") as downloaded:
            while chunk := downloaded.read(_CHUNK):
                hasher.update(chunk)
        actual = f"{algorithm}:{hasher.hexdigest()}"
        if actual != digest:
            partial.unlink(missing_ok=True)
            raise DigestMismatch(f"blob {short(digest)} of {self.image} downloaded from "
                                 f"{self.host} hashes to {short(actual)}: the registry sent "
                                 "corrupt content; try again")
        return cache.commit(partial, digest)

    def _request(self, path: str, headers: dict[str, str], what: str, *, method: str = "GET",
                 body: Body = None):
        """An open response for `method` on `path` (or a full URL the registry gave), after
        authenticating and retrying as needed; `body` is bytes or opens a file anew for
        each attempt."""
        url = path if path.startswith(("http://", "https://")) else \
            f"{self.scheme}://{self.host}{path}"
        authenticated = False
        for attempt in range(self.retries + 1):
            data = body() if callable(body) else body
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            if self._authorization:
                # Unredirected: blob downloads are often redirected to a storage host
                # that must not see the registry's token.
                request.add_unredirected_header("Authorization", self._authorization)
            try:
                return self._opener.open(request, timeout=60)
            except urllib.error.HTTPError as failure:
                if failure.code == 401 and not authenticated:
                    failure.close()
                    self._authenticate(failure.headers.get("WWW-Authenticate", ""))
                    authenticated = True
                    continue
                if failure.code in _TRANSIENT and attempt < self.retries:
                    failure.close()
                    self._pause(attempt, f"{self.host} answered {failure.code} for {what}",
                                failure.headers.get("Retry-After"))
                    continue
                error = self._http_error(failure, what)
                failure.close()
                raise error from None
            except (OSError, urllib.error.URLError) as failure:
                if attempt == self.retries:
                    raise self._unreachable(failure) from None
                self._pause(attempt, f"cannot reach {self.host} ({_reason(failure)})")
            finally:
                if hasattr(data, "close"):
                    data.close()
        raise self._unreachable(OSError("too many retries"))

    def has_blob(self, digest: str) -> bool:
        try:
            with self._request(f"/v2/{self.image.repository}/blobs/{digest}", {},
                               f"blob {short(digest)}", method="HEAD"):
                return True
        except BlobMissing:
            return False

    def upload_blob(self, content: Path | bytes, digest: str) -> None:
        """Upload a file (or bytes) as a blob, in one piece, unless the registry has it."""
        if self.has_blob(digest):
            return
        start = f"/v2/{self.image.repository}/blobs/uploads/"
        with self._request(start, {"Content-Length": "0"}, "an upload", method="POST",
                           body=b"") as reply:
            location = reply.headers.get("Location", "")
        if not location:
            raise RegistryError(f"{self.host} started an upload without saying where to send it")
        target = urllib.parse.urljoin(f"{self.scheme}://{self.host}{start}", location)
        target += ("&" if "?" in target else "?") + urllib.parse.urlencode({"digest": digest})
        size = len(content) if isinstance(content, bytes) else content.stat().st_size
        body: Body = content if isinstance(content, bytes) else (lambda: open(content, "rb"))
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        with self._request(target, headers, f"the upload of {short(digest)}", method="PUT",
                           body=body):
            pass

    def put_manifest(self, reference: str, body: bytes, media_type: str) -> None:
        path = f"/v2/{self.image.repository}/manifests/{reference}"
        with self._request(path, {"Content-Type": media_type}, "the manifest", method="PUT",
                           body=body):
            pass

    def _authenticate(self, header: str) -> None:
        challenge = parse_challenge(header)
        if challenge.scheme == "basic":
            if self.credentials is None:
                raise self._login_needed()
            authorization = self.credentials.basic_header()
        elif challenge.scheme == "bearer":
            authorization = "Bearer " + self._token(challenge.parameters)
        else:
            raise RegistryError(f"{self.host} asks for '{challenge.scheme or 'unknown'}' "
                                "authentication, which jupytainer does not speak")
        with self._lock:
            self._authorization = authorization

    def _token(self, parameters: dict[str, str]) -> str:
        realm = parameters.get("realm")
        if not realm:
            raise RegistryError(f"{self.host} sent a bearer challenge without a realm")
        realm_host = urllib.parse.urlparse(realm).netloc
        if realm.startswith("http://") and not (self.scheme == "http" or is_loopback(realm_host)):
            raise RegistryError(f"{self.host} sends logins to the unencrypted {realm}: refusing "
                                "it (use --nohttps only if this registry is trusted)")
        query = {"service": parameters.get("service", ""),
                 "scope": f"repository:{self.image.repository}:{self.actions}"}
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(
            {key: value for key, value in query.items() if value})
        request = urllib.request.Request(url)
        if self.credentials is not None:
            request.add_unredirected_header("Authorization", self.credentials.basic_header())
        try:
            with self._opener.open(request, timeout=60) as reply:
                answer = json.loads(reply.read(1 << 20))
        except urllib.error.HTTPError as failure:
            failure.close()
            if failure.code in (401, 403):
                raise self._rejected() from None
            raise RegistryError(f"the token service {realm} of {self.host} answered "
                                f"{failure.code} {failure.reason}") from None
        except (OSError, urllib.error.URLError, ValueError) as failure:
            raise RegistryError(f"cannot get a token from {realm}: {_reason(failure)}") from None
        token = answer.get("token") or answer.get("access_token")
        if not token:
            raise RegistryError(f"the token service {realm} of {self.host} sent no token")
        return token

    def _http_error(self, failure: urllib.error.HTTPError, what: str) -> RegistryError:
        code, detail = _registry_error(failure)
        if failure.code == 401:
            return self._rejected() if self.credentials else self._login_needed()
        if failure.code == 403:
            return RegistryError(f"access to {self.image} on {self.host} is denied ({detail})")
        if failure.code == 404:
            thing = f"image {self.image}" if what == "manifest" else f"{what} of {self.image}"
            kind = BlobMissing if what.startswith("blob") else RegistryError
            return kind(f"{thing} not found on {self.host} ({code or detail})")
        if failure.code == 429:
            return RegistryError(f"{self.host} is rate limiting pulls (HTTP 429, too many "
                                 "requests): wait a while, or log in to get a higher limit")
        return RegistryError(f"{self.host} answered {failure.code} {failure.reason} for "
                             f"{what} of {self.image} ({detail})")

    def _login_needed(self) -> RegistryError:
        return RegistryError(f"{self.host} requires authentication for {self.image.repository} "
                             "(or it does not exist): use --docker-login, or set "
                             "APPTAINER_DOCKER_USERNAME and APPTAINER_DOCKER_PASSWORD")

    def _rejected(self) -> RegistryError:
        origin = self.credentials.origin if self.credentials else "none"
        return RegistryError(f"{self.host} refused the credentials (from {origin}) for "
                             f"{self.image.repository}: check the user name and password")

    def _unreachable(self, failure: Exception) -> RegistryError:
        if isinstance(failure, RegistryError):
            return failure
        return RegistryError(f"cannot reach the registry {self.scheme}://{self.host}: "
                             f"{_reason(failure)}")

    def _pause(self, attempt: int, why: str, retry_after: str | None = None) -> None:
        delay = self.backoff * (2 ** attempt)
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), 60.0)
        log.verbose(f"{why}; retrying in {delay:g}s")
        time.sleep(delay)


def _registry_error(failure: urllib.error.HTTPError) -> tuple[str, str]:
    """The registry's error code and message from its JSON body, when it sent one."""
    try:
        first = json.loads(failure.read(1 << 16) or b"{}").get("errors", [{}])[0]
        return str(first.get("code", "")), str(first.get("message", "")) or failure.reason
    except (ValueError, AttributeError, IndexError, OSError):
        return "", str(failure.reason)


def _reason(failure: Exception) -> str:
    reason = getattr(failure, "reason", None) or failure
    return str(getattr(reason, "strerror", None) or reason)
