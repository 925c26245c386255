"""The action flags with Apptainer's meanings: binds, home, contain, pwd, hostname,
namespaces, writable layers, overlays, fakeroot, --no-mount, --unsquash and the
environment spellings of flags, as root and as an unprivileged user."""

import os
import shutil
from pathlib import Path

import pytest
from launch_fixtures import run_background

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


def shared_dir(identity, name: str) -> Path:
    """A directory below the identity's workdir that it owns."""
    path = identity.workdir / name
    path.mkdir()
    return identity.make_owned(path)


def test_binds_are_read_write_or_read_only_as_asked(identity, images):
    data = shared_dir(identity, "data")
    result = identity.jupytainer(
        "exec", "-B", f"{data}:/mnt/data", "-B", f"{data}:/srv:ro", images.sif, "sh", "-c",
        "echo written > /mnt/data/out; cat /srv/out; echo again > /srv/fail || echo refused")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "written\nrefused\n"
    assert (data / "out").read_text() == "written\n"


def test_comma_lists_escapes_and_apptainer_bind(identity, images):
    odd = shared_dir(identity, "a,b:c")
    (odd / "f").write_text("odd\n")
    plain = shared_dir(identity, "plain")
    (plain / "f").write_text("plain\n")
    escaped = str(odd).replace(",", "\\,").replace(":", "\\:")
    result = identity.jupytainer("exec", "-B", f"{escaped}:/mnt/data,{plain}:/srv:ro",
                                 images.sif, "cat", "/mnt/data/f", "/srv/f", "/opt/f",
                                 env={"APPTAINER_BIND": f"{plain}:/opt"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "odd\nplain\nplain\n"


def test_custom_home_and_no_home(identity, images):
    home = shared_dir(identity, "myhome")
    (home / "marker").write_text("mine\n")
    custom = identity.jupytainer("exec", "-H", f"{home}:/home/custom", images.sif, "sh",
                                 "-c", "echo $HOME; cat ~/marker")
    assert custom.stdout == "/home/custom\nmine\n", custom.stderr
    (identity.workdir / "ok").write_text("")
    no_home = identity.jupytainer("exec", "--no-home", "--pwd", "/", images.sif, "sh", "-c",
                                  f"ls {identity.home} 2>/dev/null | wc -l")
    assert no_home.returncode == 0, no_home.stderr


def test_contain_gives_private_tmp_home_and_minimal_dev(identity, images):
    (identity.workdir / "host-file").write_text("")
    result = identity.jupytainer("exec", "--contain", images.sif, "sh", "-c",
                                 "ls /tmp | wc -l; pwd; ls $HOME | wc -l; ls /dev")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[:3] == ["0", str(identity.home), "0"]
    assert {"null", "zero", "urandom", "pts", "shm", "tty"} <= set(lines[3:])
    assert not any(name.startswith(("vd", "sd", "loop")) for name in lines[3:])


def test_containall_also_cleans_the_environment(identity, images):
    result = identity.jupytainer("exec", "-C", images.sif, "sh", "-c", "echo ${HOST_ONLY:-unset}",
                                 env={"HOST_ONLY": "leaked"})
    assert result.stdout == "unset\n", result.stderr


def test_pwd_chooses_the_working_directory(identity, images):
    result = identity.jupytainer("exec", "--pwd", "/mnt/data", images.sif, "pwd")
    assert result.stdout == "/mnt/data\n", result.stderr


def test_hostname_gets_its_own_uts_namespace(identity, images):
    result = identity.jupytainer("exec", "--hostname", "inside", images.sif, "sh", "-c",
                                 "hostname; cat /etc/hostname")
    assert result.stdout == "inside\ninside\n", result.stderr
    assert os.uname().nodename != "inside"


def test_net_leaves_only_loopback_and_it_is_up(identity, images):
    result = identity.jupytainer("exec", "--net", images.sif, "sh", "-c",
                                 "ls /sys/class/net; cat /sys/class/net/lo/flags")
    assert result.returncode == 0, result.stderr
    interfaces, flags = result.stdout.split()
    assert interfaces == "lo"
    assert int(flags, 16) & 1  # IFF_UP


def test_ipc_gets_its_own_namespace(identity, images):
    host = os.readlink("/proc/self/ns/ipc")
    shared = identity.jupytainer("exec", images.sif, "readlink", "/proc/self/ns/ipc")
    private = identity.jupytainer("exec", "--ipc", images.sif, "readlink", "/proc/self/ns/ipc")
    assert shared.stdout.strip() == host
    assert private.stdout.strip() not in ("", host), private.stderr


@pytest.mark.parametrize("kind", ["sandbox", "sif"])
def test_writable_tmpfs_accepts_writes_that_vanish(identity, images, kind):
    image = images.kind(kind)
    result = identity.jupytainer("exec", "--writable-tmpfs", image, "sh", "-c",
                                 "echo x > /new-file && cat /new-file")
    assert result.stdout == "x\n", result.stderr
    readonly = identity.jupytainer("exec", image, "sh", "-c", "touch /new-file")
    assert readonly.returncode != 0
    assert not (images.sandbox / "new-file").exists()


def test_overlay_directory_keeps_writes_and_ro_overlays_add_files(identity, images):
    upper = shared_dir(identity, "overlay")
    extra = shared_dir(identity, "extra")
    (extra / "from-extra").write_text("layer\n")
    first = identity.jupytainer("exec", "-o", str(upper), "-o", f"{extra}:ro", images.sif,
                                "sh", "-c", "echo kept > /kept; cat /from-extra")
    assert first.stdout == "layer\n", first.stderr
    second = identity.jupytainer("exec", "-o", str(upper), images.sif, "cat", "/kept")
    assert second.stdout == "kept\n", second.stderr
    assert (upper / "upper" / "kept").read_text() == "kept\n"


def test_writable_sandbox_is_changed_in_place(identity, images):
    sandbox = identity.workdir / "sandbox"
    shutil.copytree(images.sandbox, sandbox, symlinks=True)
    if not identity.is_root:
        identity.run(["true"])
        for path in [sandbox, *sandbox.rglob("*")]:
            os.lchown(path, identity.uid, identity.gid)
    result = identity.jupytainer("exec", "-w", sandbox, "sh", "-c", "echo in > /inplace")
    assert result.returncode == 0, result.stderr
    assert (sandbox / "inplace").read_text() == "in\n"


def test_fakeroot_makes_the_caller_root_inside(identity, images):
    result = identity.jupytainer("exec", "-f", images.sif, "sh", "-c",
                                 "id -u; id -un; echo $HOME")
    assert result.stdout.split() == ["0", "root", "/root"], result.stderr


def test_fakeroot_maps_the_users_subordinate_ids(identity, images):
    """The test user has /etc/subuid and /etc/subgid ranges: IDs above 0 exist inside."""
    result = identity.jupytainer("exec", "-f", images.sif, "cat", "/proc/self/uid_map",
                                 "/proc/self/gid_map")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    if identity.is_root:  # root needs no mapping: it is root already
        assert rows[0] == ["0", "0", "4294967295"]
    else:
        assert rows[0] == ["0", str(identity.uid), "1"]
        assert rows[1][0] == "1" and int(rows[1][2]) >= 65536
        assert rows[2] == ["0", str(identity.gid), "1"]


def test_no_mount_skips_default_mounts(identity, images):
    result = identity.jupytainer("exec", "--no-mount", "tmp,home,cwd", "--pwd", "/",
                                 images.sif, "sh", "-c", "ls /tmp | wc -l")
    assert result.stdout == "0\n", result.stderr


def test_environment_spellings_of_flags(identity, images):
    for prefix in ("APPTAINER_", "JUPYTAINER_"):
        result = identity.jupytainer("exec", images.sif, "hostname",
                                     env={f"{prefix}HOSTNAME": "from-env"})
        assert result.stdout == "from-env\n", result.stderr


def test_unsquash_extracts_once_into_the_cache_and_reuses_it(identity, images):
    cache = shared_dir(identity, "cache")
    env = {"APPTAINER_CACHEDIR": str(cache)}
    first = identity.jupytainer("exec", "--unsquash", images.sif, "cat", "/proc/self/mounts",
                                env=env)
    assert first.returncode == 0, first.stderr
    assert "squashfs" not in first.stdout.splitlines()[0]
    assert "Converting SIF file to temporary sandbox" in first.stderr
    second = identity.jupytainer("exec", "--unsquash", images.sif, "echo", "again", env=env)
    assert (second.returncode, second.stdout, second.stderr) == (0, "again\n", "")
    assert len(list((cache / "cache" / "sandbox").iterdir())) >= 1
    entries = [path for path in (cache / "cache" / "sandbox").iterdir()
               if not path.name.startswith(".")]
    assert len(entries) == 1


def test_env_options_reach_the_payload(identity, images):
    env_file = identity.workdir / "vars"
    env_file.write_text("FROM_FILE=file\nBOTH=file\n")
    result = identity.jupytainer("exec", "--env", "FROM_FLAG=flag,BOTH=flag", "--env-file",
                                 env_file, images.sif, "sh", "-c",
                                 "echo $FROM_FLAG $FROM_FILE $BOTH $IMAGE_VAR $FROM_HOST",
                                 env={"FROM_HOST": "host"})
    assert result.stdout == "flag file flag from-image host\n", result.stderr


def test_unsquash_extracts_images_with_device_nodes(identity, images):
    """A user cannot create device nodes: the extraction goes on without them."""
    cache = shared_dir(identity, "cache")
    result = identity.jupytainer("exec", "--unsquash", images.device_sif, "echo", "ran",
                                 env={"APPTAINER_CACHEDIR": str(cache)})
    assert (result.returncode, result.stdout) == (0, "ran\n"), result.stderr


def test_concurrent_first_launches_share_one_extraction(identity, images):
    cache = shared_dir(identity, "cache")
    env = {"APPTAINER_CACHEDIR": str(cache)}
    launches = [run_background(identity, "exec", "--unsquash", images.sif, "echo", "ran",
                               env=env) for _ in range(3)]
    outputs = [process.communicate(timeout=120) for process in launches]
    assert [process.returncode for process in launches] == [0, 0, 0], outputs
    assert [out for out, _ in outputs] == ["ran\n"] * 3
    entries = [path for path in (cache / "cache" / "sandbox").iterdir()
               if not path.name.startswith(".")]
    assert len(entries) == 1
