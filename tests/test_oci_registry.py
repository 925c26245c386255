"""Pulls from a real registry (Debian's docker-registry on 127.0.0.1, images pushed with
skopeo): single images, multi-platform indexes, zstd layers, the blob cache, basic
authentication from every credential source, and the messages of every final failure."""

import base64
import json
import os
import subprocess
import sys

import pytest

from oci_images import (UNPACK, Config, Layer, Layout, directory, failure, file, symlink,
                        unpack_as)
from oci_registry import PASSWORD, USER

LAYERS = [Layer([directory("etc"), file("etc/os-release", "ID=test\n"), file("etc/old", "x"),
                 directory("usr"), directory("usr/bin"), symlink("bin", "usr/bin")]),
          Layer([file("etc/.wh.old"), file("usr/bin/hello", "#!/bin/sh\necho hi\n", 0o755)]),
          Layer([file("zstd-layer", "compressed with zstd")], "zstd")]
CONFIG = Config(entrypoint=["/bin/hello"], cmd=["--loud"], labels={"maintainer": "tests"},
                env=["PATH=/usr/bin:/bin", "GREETING=hello $USER"])


@pytest.fixture(scope="module")
def pushed(registry, tmp_path_factory):
    """One single-platform image and one two-platform index, pushed once for the module."""
    layout = Layout(tmp_path_factory.mktemp("layouts") / "layout")
    single = layout.image(LAYERS, CONFIG)
    amd = layout.image([Layer([file("arch", "amd64")])], Config(cmd=["amd"]))
    arm = layout.image([Layer([file("arch", "arm64")])], Config(cmd=["arm"],
                                                                architecture="arm64"))
    arm["platform"]["variant"] = "v8"
    layout.tag(single, "single").tag(layout.index([amd, arm]), "multi")
    return {"single": registry.push(layout.path, "single", "tests/app"),
            "multi": registry.push(layout.path, "multi", "tests/multi", all_platforms=True),
            "layout": layout.path}



def test_pull_unpacks_layers_and_writes_the_image_metadata(identity, pushed):
    rootfs = identity.workdir / "rootfs"
    result = unpack_as(identity, pushed["single"], rootfs)
    assert result.returncode == 0, result.stderr
    assert (rootfs / "etc/os-release").read_text() == "ID=test\n"
    assert not (rootfs / "etc/old").exists()
    assert (rootfs / "bin/hello").read_text().startswith("#!/bin/sh")
    assert (rootfs / "zstd-layer").read_text() == "compressed with zstd"
    meta = rootfs / ".singularity.d"
    assert json.loads((meta / "labels.json").read_text()) == {"maintainer": "tests"}
    assert 'export GREETING="${GREETING:-"hello \\$USER"}"' in (
        meta / "env/10-docker2singularity.sh").read_text()
    assert "OCI_ENTRYPOINT='\"/bin/hello\"'" in (meta / "runscript").read_text()
    assert json.loads(result.stdout)["digest"].startswith("sha256:")


def test_progress_lines_name_each_layer(identity, pushed):
    result = unpack_as(identity, pushed["single"], identity.workdir / "rootfs")
    lines = [line.split(": ") for line in result.stderr.splitlines()
             if line.startswith("layer ")]
    for number in (1, 2, 3):
        steps = [step for layer, _, step in lines if layer == f"layer {number}/3"]
        assert steps == ["downloading", "unpacking", "done"]
    assert lines[-1][0] == "layer 3/3" and lines[-1][2] == "done"


def test_second_pull_uses_the_blob_cache(identity, pushed):
    unpack_as(identity, pushed["single"], identity.workdir / "first")
    result = unpack_as(identity, pushed["single"], identity.workdir / "second")
    assert result.returncode == 0, result.stderr
    assert "downloading" not in result.stderr and ": cached" in result.stderr
    blobs = identity.workdir / "cache/cache/blob/blobs/sha256"
    assert len(os.listdir(blobs)) == 4
    assert not os.listdir(identity.workdir / "cache/cache/blob/partial")


@pytest.mark.parametrize("arch, expected", [("amd64", "amd64"), ("arm64", "arm64"),
                                            ("arm64/v8", "arm64")])
def test_multi_platform_index_is_resolved_by_architecture(identity, pushed, arch, expected):
    rootfs = identity.workdir / "rootfs"
    result = unpack_as(identity, pushed["multi"], rootfs, arch=arch)
    assert result.returncode == 0, result.stderr
    assert (rootfs / "arch").read_text() == expected


def test_an_architecture_the_index_lacks_is_named(identity, pushed):
    result = unpack_as(identity, pushed["multi"], identity.workdir / "rootfs", arch="ppc64le")
    assert "has no image for linux/ppc64le; it offers linux/amd64, linux/arm64/v8: choose " \
        "one with --arch" in failure(result)


def test_a_single_image_for_another_architecture_is_refused_when_asked(identity, pushed):
    result = unpack_as(identity, pushed["single"], identity.workdir / "rootfs", arch="arm64")
    assert "is built for amd64, not arm64" in failure(result)


def test_pull_by_digest(identity, pushed, registry):
    first = unpack_as(identity, pushed["single"], identity.workdir / "one")
    assert first.returncode == 0, first.stderr
    digest = json.loads(first.stdout)["digest"]
    source = f"docker://{registry.host}/tests/app@{digest}"
    result = unpack_as(identity, source, identity.workdir / "two")
    assert result.returncode == 0, result.stderr


def test_missing_image_is_named(identity, registry):
    result = unpack_as(identity, f"docker://{registry.host}/tests/nothing:here",
                       identity.workdir / "rootfs")
    assert failure(result) == (f"image {registry.host}/tests/nothing:here not found on "
                               f"{registry.host} (MANIFEST_UNKNOWN)")


def test_unreachable_registry_is_named(identity):
    from oci_registry import free_port
    host = f"127.0.0.1:{free_port()}"
    result = unpack_as(identity, f"docker://{host}/x:1", identity.workdir / "rootfs")
    assert f"cannot reach the registry http://{host}: " in failure(result)


# Authentication -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def private(auth_registry, pushed):
    return auth_registry.push(pushed["layout"], "single", "private/app")


def test_anonymous_pull_from_a_private_registry_asks_for_a_login(identity, private,
                                                                 auth_registry):
    result = unpack_as(identity, private, identity.workdir / "rootfs")
    assert failure(result) == (f"{auth_registry.host} requires authentication for private/app "
                               "(or it does not exist): use --docker-login, or set "
                               "APPTAINER_DOCKER_USERNAME and APPTAINER_DOCKER_PASSWORD")


def test_login_argument_authenticates(identity, private):
    result = unpack_as(identity, private, identity.workdir / "rootfs", login=[USER, PASSWORD])
    assert result.returncode == 0, result.stderr


def test_environment_variables_authenticate(identity, private):
    env = {"APPTAINER_DOCKER_USERNAME": USER, "APPTAINER_DOCKER_PASSWORD": PASSWORD}
    result = unpack_as(identity, private, identity.workdir / "rootfs", env=env)
    assert result.returncode == 0, result.stderr


def auth_file(path, host: str, password: str = PASSWORD):
    path.parent.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {f"http://{host}": {"auth": token}}}))


def test_docker_config_authenticates(identity, private, auth_registry):
    auth_file(identity.workdir / "docker/config.json", auth_registry.host)
    result = unpack_as(identity, private, identity.workdir / "rootfs",
                       env={"DOCKER_CONFIG": str(identity.workdir / "docker")})
    assert result.returncode == 0, result.stderr


def test_podman_auth_file_authenticates(identity, private, auth_registry):
    runtime = identity.workdir / "run"
    auth_file(runtime / "containers/auth.json", auth_registry.host)
    result = unpack_as(identity, private, identity.workdir / "rootfs",
                       env={"XDG_RUNTIME_DIR": str(runtime)})
    assert result.returncode == 0, result.stderr


def test_wrong_password_is_reported(identity, private, auth_registry):
    result = unpack_as(identity, private, identity.workdir / "rootfs", login=[USER, "wrong"])
    assert failure(result) == (f"{auth_registry.host} refused the credentials (from "
                               "--docker-login) for private/app: check the user name and "
                               "password")


# Faults between client and registry --------------------------------------------------------

def through(proxy, pushed, registry) -> str:
    return pushed["single"].replace(registry.host, proxy.host)


def test_transient_server_errors_are_retried(identity, pushed, proxy, registry):
    proxy.faults.match, proxy.faults.status, proxy.faults.times = "/manifests/", 503, 2
    result = unpack_as(identity, through(proxy, pushed, registry), identity.workdir / "rootfs")
    assert result.returncode == 0, result.stderr
    assert proxy.faults.times == 0


def test_persistent_rate_limit_is_reported(identity, pushed, proxy, registry):
    proxy.faults.match, proxy.faults.status, proxy.faults.times = "/manifests/", 429, 10
    result = unpack_as(identity, through(proxy, pushed, registry), identity.workdir / "rootfs")
    assert failure(result) == (f"{proxy.host} is rate limiting pulls (HTTP 429, too many "
                               "requests): wait a while, or log in to get a higher limit")


def test_an_interrupted_download_resumes(identity, pushed, proxy, registry):
    proxy.faults.match, proxy.faults.cut_after, proxy.faults.times = "/blobs/", 40, 1
    result = unpack_as(identity, through(proxy, pushed, registry), identity.workdir / "rootfs")
    assert result.returncode == 0, result.stderr
    assert any("bytes=40-" in seen for seen in proxy.faults.seen)


@pytest.mark.slow
def test_a_pull_cut_short_every_time_fails_and_the_next_one_resumes(identity, pushed, proxy,
                                                                    registry):
    proxy.faults.match, proxy.faults.cut_after, proxy.faults.times = "/blobs/sha256", 40, 4
    source = through(proxy, pushed, registry)
    result = unpack_as(identity, source, identity.workdir / "rootfs")
    message = failure(result)
    # Each of the four attempts resumed where the last stopped, and got 40 more bytes.
    assert f"from {proxy.host} failed: the download stopped after 160 of " in message
    assert message.endswith("bytes; run the pull again to resume it")
    assert not (identity.workdir / "rootfs").exists()

    result = unpack_as(identity, source, identity.workdir / "rootfs")
    assert result.returncode == 0, result.stderr
    assert any(seen.endswith("bytes=160-") for seen in proxy.faults.seen[-4:])


def test_a_corrupt_blob_from_the_registry_is_refused(identity, pushed, proxy,
                                                     registry):
    layer = Layer([file("unique", "only in this test")])
    layout = Layout(identity.workdir / "layout")
    layout.tag(layout.image([layer]), "corrupt")
    registry.push(layout.path, "corrupt", "tests/corrupt")
    digest = json.loads(json.dumps(layout.blob(layer.blob, "x")))["digest"]
    proxy.faults.match, proxy.faults.corrupt, proxy.faults.times = digest, True, 1
    source = f"docker://{proxy.host}/tests/corrupt:corrupt"
    result = unpack_as(identity, source, identity.workdir / "rootfs")
    assert f"blob {digest[7:14]} of {proxy.host}/tests/corrupt:corrupt downloaded from " \
        f"{proxy.host} hashes to" in failure(result)
    assert "the registry sent corrupt content; try again" in failure(result)
    assert not (identity.workdir / "rootfs").exists()


# Bearer tokens, as Docker Hub and most public registries hand them out ----------------------

@pytest.fixture(scope="module")
def token_images(token_registry, pushed):
    return {"public": token_registry.push(pushed["layout"], "single", "public/app"),
            "private": token_registry.push(pushed["layout"], "single", "private/app")}


def test_anonymous_bearer_token_pulls_a_public_image(identity, token_images):
    rootfs = identity.workdir / "rootfs"
    result = unpack_as(identity, token_images["public"], rootfs)
    assert result.returncode == 0, result.stderr
    assert (rootfs / "zstd-layer").is_file()


def test_bearer_token_with_credentials_pulls_a_private_image(identity, token_images):
    result = unpack_as(identity, token_images["private"], identity.workdir / "rootfs",
                       login=[USER, PASSWORD])
    assert result.returncode == 0, result.stderr


def test_bearer_token_without_the_right_to_pull_asks_for_a_login(identity, token_images,
                                                                 token_registry):
    result = unpack_as(identity, token_images["private"], identity.workdir / "rootfs")
    assert failure(result).startswith(f"{token_registry.host} requires authentication for "
                                      "private/app (or it does not exist)")


def test_token_service_refusing_the_password_is_reported(identity, token_images,
                                                         token_registry):
    result = unpack_as(identity, token_images["private"], identity.workdir / "rootfs",
                       login=[USER, "wrong"])
    assert failure(result) == (f"{token_registry.host} refused the credentials (from "
                               "--docker-login) for private/app: check the user name and "
                               "password")


def test_an_image_listing_one_layer_twice_downloads_it_once(identity, registry, proxy):
    layer = Layer([file("twice", "same layer")])
    layout = Layout(identity.workdir / "layout")
    layout.tag(layout.image([layer, layer]), "twice")
    registry.push(layout.path, "twice", "tests/twice")
    rootfs = identity.workdir / "rootfs"
    result = unpack_as(identity, f"docker://{proxy.host}/tests/twice:twice", rootfs)
    assert result.returncode == 0, result.stderr
    assert (rootfs / "twice").read_text() == "same layer"
    layer_digest = Layout(identity.workdir / "check").blob(layer.blob, "")["digest"]
    assert sum(layer_digest in seen for seen in proxy.faults.seen) == 1


def test_two_pulls_sharing_a_cache_at_once_both_succeed(identity, pushed):
    env = identity.environment({"JUPYTAINER_CACHEDIR": str(identity.workdir / "cache")})
    runs = [subprocess.Popen(identity.command([sys.executable, "-c", UNPACK, pushed["single"],
                                               str(identity.workdir / f"root{index}"), "{}"]),
                             env=env, cwd=identity.workdir, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for index in range(3)]
    for run in runs:
        _, errors = run.communicate(timeout=120)
        assert run.returncode == 0, errors
    for index in range(3):
        assert (identity.workdir / f"root{index}/zstd-layer").is_file()
    assert not os.listdir(identity.workdir / "cache/cache/blob/partial")
