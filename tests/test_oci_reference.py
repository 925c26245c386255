"""Image references as Docker writes them, with Docker Hub's defaults and the Registry: and
Namespace: headers of a definition file."""

import pytest

from jupytainer.runtime.errors import JupytainerError
from jupytainer.runtime.oci.manifest import Platform, parse_platform
from jupytainer.runtime.oci.reference import compose, parse_reference
from jupytainer.runtime.oci.registry import is_loopback

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, registry, repository, tag, digest, api", [
    ("alpine", "docker.io", "library/alpine", "latest", None, "registry-1.docker.io"),
    ("docker://alpine:3.19", "docker.io", "library/alpine", "3.19", None,
     "registry-1.docker.io"),
    ("user/app", "docker.io", "user/app", "latest", None, "registry-1.docker.io"),
    ("index.docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", None,
     "registry-1.docker.io"),
    ("ghcr.io/org/team/app:v1", "ghcr.io", "org/team/app", "v1", None, "ghcr.io"),
    ("localhost:5000/app", "localhost:5000", "app", "latest", None, "localhost:5000"),
    ("127.0.0.1:5000/a/b@" + DIGEST, "127.0.0.1:5000", "a/b", None, DIGEST, "127.0.0.1:5000"),
    ("quay.io/x/y:1.0@" + DIGEST, "quay.io", "x/y", "1.0", DIGEST, "quay.io"),
])
def test_references_parse(text, registry, repository, tag, digest, api):
    found = parse_reference(text)
    assert (found.registry, found.repository, found.tag, found.digest) == (
        registry, repository, tag, digest)
    assert found.api_host == api


@pytest.mark.parametrize("text, message", [
    ("Alpine", "'Alpine' is not a valid repository name"),
    ("alpine:bad/tag", "invalid registry host .alpine:bad."),
    ("alpine:-bad", "bad tag '-bad'"),
    ("alpine@sha256:123", "invalid digest in image reference"),
    ("alpine@md5:" + "a" * 32, "invalid digest"),
])
def test_bad_references_are_refused(text, message):
    with pytest.raises(JupytainerError, match=message):
        parse_reference(text)


def test_registry_and_namespace_headers_are_prepended():
    assert compose("app:1", "quay.io", "team") == "quay.io/team/app:1"
    assert compose("app", "", "team") == "team/app"
    assert parse_reference(compose("app", "myreg.local:5000", "")).registry == \
        "myreg.local:5000"


@pytest.mark.parametrize("text, expected", [
    ("amd64", Platform("amd64")), ("arm/v7", Platform("arm", "v7")),
    ("linux/arm64/v8", Platform("arm64", "v8")),
])
def test_architectures_parse(text, expected):
    assert parse_platform(text) == expected


def test_plain_http_is_only_for_loopback_hosts():
    assert is_loopback("127.0.0.1:5000") and is_loopback("localhost") and is_loopback("[::1]:80")
    assert not is_loopback("registry.example.org:5000") and not is_loopback("10.0.0.1")
