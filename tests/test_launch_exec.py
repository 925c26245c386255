"""The action verbs end to end: what exec, run and test print and return, as root and as
an unprivileged user, on sandbox directories, SIF files and an image Apptainer built."""

import os
import signal
import time

import pytest
from conftest import JUPYTAINER
from launch_fixtures import launcher_pid, run_background

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")

KINDS = ["sandbox", "sif"]


@pytest.mark.parametrize("kind", KINDS)
def test_exec_prints_and_returns_the_payload_status(identity, images, kind):
    result = identity.jupytainer("exec", images.kind(kind), "sh", "-c", "echo hello; exit 7")
    assert result.stdout == "hello\n", result
    assert result.returncode == 7
    assert result.stderr == ""


@pytest.mark.parametrize("kind", KINDS)
def test_payload_killed_by_a_signal_exits_128_plus_the_signal(identity, images, kind):
    result = identity.jupytainer("exec", images.kind(kind), "sh", "-c", "kill -TERM $$")
    assert result.returncode == 128 + signal.SIGTERM


def test_run_gives_the_arguments_to_the_runscript(identity, images):
    result = identity.jupytainer("run", images.sif, "one", "two words")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "runscript args: one two words\n"


def test_test_runs_the_test_script_and_returns_its_status(identity, images):
    result = identity.jupytainer("test", images.sandbox)
    assert result.stdout == "test script ran\n", result
    assert result.returncode == 3


def test_the_container_knows_the_caller_by_name(identity, images):
    result = identity.jupytainer("exec", images.sif, "sh", "-c",
                                 "id -un; id -u; grep ^$(id -un): /etc/passwd; id -gn")
    assert result.returncode == 0, result.stderr
    name, uid, passwd, group = result.stdout.splitlines()
    assert (name, uid) == (identity.name, str(identity.uid))
    assert passwd.split(":")[5] == str(identity.home)
    assert group == ("root" if identity.is_root else identity.name)


def test_runs_in_the_callers_directory_with_home_and_tmp_bound(identity, images):
    result = identity.jupytainer("exec", images.sif, "sh", "-c",
                                 "pwd; echo made > here.txt; echo $HOME; ls -d $HOME; "
                                 f"ls /tmp/{identity.workdir.name}/here.txt")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(identity.workdir)
    assert lines[1] == lines[2] == str(identity.home)
    assert (identity.workdir / "here.txt").read_text() == "made\n"


def test_each_container_has_its_own_pid_namespace_with_init_as_pid_1(identity, images):
    result = identity.jupytainer("exec", images.sif, "sh", "-c", "echo $$; cat /proc/1/comm")
    assert result.returncode == 0, result.stderr
    payload, init = result.stdout.split()
    assert int(payload) > 1
    assert init != "sh"


def test_orphans_are_reaped_by_init(identity, images):
    script = ("sh -c 'sleep 0.2 & exit 0'; sleep 1; "
              "for s in /proc/[0-9]*/stat; do cut -d' ' -f3 $s; done | grep -c Z || true")
    result = identity.jupytainer("exec", images.sif, "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_launcher_reaches_the_payload(identity, images, number):
    script = ("trap 'echo caught; exit 5' TERM INT; echo ready; "
              "while :; do sleep 0.1; done")
    process = run_background(identity, "exec", images.sif, "sh", "-c", script)
    assert process.stdout.readline() == "ready\n"
    os.kill(launcher_pid(process), number)
    out, err = process.communicate(timeout=30)
    assert out == "caught\n", err
    assert process.returncode == 5


def test_the_apptainer_built_image_runs(identity, shared_reference):
    image = shared_reference / "sif-images" / "busybox_amd64.sif"
    result = identity.jupytainer("exec", image, "sh", "-c", "echo $((6 * 7)); id -u")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["42", str(identity.uid)]
    ran = identity.jupytainer("run", image)
    assert ran.returncode == 0, ran.stderr


def test_a_sif_with_a_launch_script_runs_as_a_program(identity, images):
    bin_dir = str(JUPYTAINER.parent)
    result = identity.run([images.sif, "direct", "call"],
                          env={"PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "runscript args: direct call\n"


def test_a_plain_squashfs_file_runs(identity, images):
    result = identity.jupytainer("exec", images.squashfs, "echo", "squashed")
    assert (result.returncode, result.stdout) == (0, "squashed\n"), result.stderr


def test_the_python_api_runs_and_starts_containers(identity, images):
    """run_container and start_container, driven from a program running as identity."""
    program = (
        "import signal, sys\n"
        "from jupytainer.runtime.launch import ContainerOptions, run_container, "
        "start_container\n"
        "status = run_container(sys.argv[1], 'exec', ['sh', '-c', 'exit 9'], "
        "ContainerOptions())\n"
        "process = start_container(sys.argv[1], 'exec', ['sleep', '30'], ContainerOptions())\n"
        "process.send_signal(signal.SIGTERM)\n"
        "print(status, process.wait())\n")
    python = JUPYTAINER.parent / "python"
    result = identity.run([python, "-c", program, images.sif])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["9", str(128 + signal.SIGTERM)]


def test_a_launcher_killed_outright_takes_its_container_with_it(identity, images):
    process = run_background(identity, "exec", images.sif, "sh", "-c",
                             "echo ready; exec sleep 617")
    assert process.stdout.readline() == "ready\n"
    os.kill(launcher_pid(process), signal.SIGKILL)
    process.communicate(timeout=30)
    for _ in range(100):
        if not any(_command_line(pid) == b"sleep\x00617\x00" for pid in _pids()):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the payload outlived its launcher")
    # The next launch removes the session directory the killed one could not.
    assert identity.jupytainer("exec", images.sif, "true").returncode == 0


def _pids() -> list[str]:
    return [name for name in os.listdir("/proc") if name.isdigit()]


def _command_line(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def test_root_loop_mounts_a_sif_and_a_user_mounts_it_with_squashfuse(identity, images):
    result = identity.jupytainer("exec", images.sif, "head", "-n1", "/proc/self/mounts")
    assert result.returncode == 0, result.stderr
    device, mount_point, fstype = result.stdout.split()[:3]
    assert mount_point == "/"
    if identity.is_root:
        assert (device.startswith("/dev/loop"), fstype) == (True, "squashfs")
    else:
        assert fstype == "fuse.squashfuse_ll"


def test_options_after_the_image_belong_to_the_command(identity, images):
    result = identity.jupytainer("exec", "-p", "-u", images.sandbox, "echo", "--help", "-B")
    assert (result.returncode, result.stdout) == (0, "--help -B\n"), result.stderr
    ran = identity.jupytainer("run", images.sandbox, "--flag", "-x")
    assert ran.stdout == "runscript args: --flag -x\n", ran.stderr


def test_a_working_directory_reached_through_a_host_symlink_keeps_its_path(identity, images):
    real = identity.workdir / "real"
    real.mkdir()
    (real / "inside-real").write_text("")
    link = identity.workdir / "link"
    link.symlink_to(real)
    result = identity.jupytainer("exec", images.sif, "sh", "-c", "pwd; ls", cwd=link,
                                 env={"PWD": str(link)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(link), "inside-real"]
