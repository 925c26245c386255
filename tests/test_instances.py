"""Instances end to end, as root and as an unprivileged user: start, list, join, stop,
and the ways an instance ends (killed from outside, a startscript that exits at once or
ignores SIGINT, lots of output)."""

import json
import os
import signal
import subprocess

import pytest
from conftest import JUPYTAINER
from instance_support import (alive, config_env, entry, namespace_of, processes_in,
                              wait_for)

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


def start(identity, image, name, *args, flags=()):
    result = identity.jupytainer("instance", "start", *flags, image, name, *args,
                                 env=config_env(identity))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "INFO:    instance started successfully\n"
    return entry(identity, name)


def listed(identity, pattern="*") -> dict[str, dict]:
    result = identity.jupytainer("instance", "list", "--json", pattern,
                                 env=config_env(identity))
    assert result.returncode == 0, result.stderr
    return {item["instance"]: item for item in json.loads(result.stdout)["instances"]}


def stop(identity, *args):
    return identity.jupytainer("instance", "stop", *args, env=config_env(identity))


def test_start_list_exec_stop(identity, service_image):
    state = start(identity, service_image, "web", flags=["--contain"])
    namespace = namespace_of(state["pid"])

    item = listed(identity)["web"]
    assert (item["pid"], item["img"]) == (state["pid"], str(service_image))
    table = identity.jupytainer("instance", "list", env=config_env(identity)).stdout
    assert table.splitlines()[0].split() == ["INSTANCE", "NAME", "PID", "IP", "IMAGE"]
    assert table.splitlines()[1].split() == ["web", str(state["pid"]), str(service_image)]

    joined = identity.jupytainer("exec", "instance://web", "sh", "-c",
                                 "cat /tmp/startscript-was-here; ps -o comm; "
                                 "echo $APPTAINER_INSTANCE; id -u",
                                 env=config_env(identity))
    assert joined.returncode == 0, joined.stderr
    lines = joined.stdout.splitlines()
    assert lines[0] == "from-startscript"
    assert "sleep" in lines  # the startscript's process, seen through the instance's /proc
    assert lines[-2:] == ["web", str(identity.uid)]
    with open(item["logOutPath"]) as log:
        assert log.read() == "started web\n"

    stopped = stop(identity, "web")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stderr == (f"INFO:    Stopping web instance of {service_image} "
                              f"(PID={state['pid']})\n")
    assert processes_in(namespace) == []
    assert not alive(state["ppid"])
    assert listed(identity) == {}
    assert not list((identity.workdir / "config").glob("instances/app/*/*/web"))


def test_run_and_shell_and_test_join_too(identity, service_image):
    start(identity, service_image, "joined", flags=["--writable-tmpfs"])
    written = identity.jupytainer("exec", "instance://joined", "sh", "-c",
                                  "echo shared > /made-by-exec", env=config_env(identity))
    assert written.returncode == 0, written.stderr
    ran = identity.jupytainer("run", "instance://joined", "a", env=config_env(identity))
    assert (ran.returncode, ran.stdout) == (0, "runscript args: a\n"), ran.stderr
    shell = identity.run([str(JUPYTAINER), "shell", "instance://joined"],
                         input="cat /made-by-exec\n", env=config_env(identity))
    assert (shell.returncode, shell.stdout) == (0, "shared\n"), shell.stderr
    tested = identity.jupytainer("test", "instance://joined", env=config_env(identity))
    assert tested.returncode == 3
    assert stop(identity, "joined").returncode == 0


def test_killed_init_is_dropped_and_its_name_reused(identity, service_image):
    state = start(identity, service_image, "victim")
    os.kill(state["pid"], signal.SIGKILL)
    wait_for(lambda: not alive(state["pid"]), "the init died")

    assert listed(identity) == {}
    again = start(identity, service_image, "victim")
    assert again["pid"] != state["pid"]
    assert list(listed(identity)) == ["victim"]
    assert stop(identity, "victim").returncode == 0


def test_startscript_that_exits_at_once_leaves_a_running_instance(identity, service_image):
    """As Apptainer's: the instance stays to be joined until it is stopped."""
    state = start(identity, service_image, "brief", "true")
    assert list(listed(identity)) == ["brief"]
    joined = identity.jupytainer("exec", "instance://brief", "echo", "inside",
                                 env=config_env(identity))
    assert (joined.returncode, joined.stdout) == (0, "inside\n"), joined.stderr
    assert stop(identity, "brief").returncode == 0
    assert not alive(state["pid"]) and not alive(state["ppid"])


def test_stop_returns_after_processes_that_left_the_payloads_group(identity,
                                                                   service_image):
    # setsid puts the daemon out of the group init signals: only the end of the namespace
    # (the kernel kills what is left when init exits) ends it, and stop waits for that.
    state = start(identity, service_image, "daemons", "sh", "-c",
                  "setsid sleep 100000 & setsid sh -c 'trap \"\" INT TERM; sleep 100000' &"
                  " echo ready; exec sleep 100000")
    namespace = namespace_of(state["pid"])
    wait_for(lambda: "ready" in open(state["log_out"]).read(), "the daemons were started")
    assert len(processes_in(namespace)) >= 4

    stopped = stop(identity, "daemons")
    assert stopped.returncode == 0, stopped.stderr
    assert processes_in(namespace) == []
    assert listed(identity) == {}


def test_stop_escalates_when_the_startscript_ignores_sigint(identity, service_image):
    state = start(identity, service_image, "stubborn", "sh", "-c",
                  "trap '' INT; echo ready; while :; do sleep 1; done")
    namespace = namespace_of(state["pid"])
    wait_for(lambda: "ready" in open(state["log_out"]).read(), "the trap was set")

    stopped = stop(identity, "--timeout", "1", "stubborn")
    assert stopped.returncode == 0, stopped.stderr
    assert processes_in(namespace) == []
    assert listed(identity) == {}


def test_stop_signal_and_force(identity, service_image):
    first = start(identity, service_image, "term-me", "sh", "-c",
                  "trap 'echo got TERM; exit 0' TERM; while :; do sleep 1; done")
    second = start(identity, service_image, "force-me",
                   flags=["--pid-file", identity.workdir / "force-me.pid"])
    assert (identity.workdir / "force-me.pid").read_text() == f"{second['pid']}\n"
    assert stop(identity, "--signal", "SIGTERM", "term-me").returncode == 0
    assert stop(identity, "--force", "force-me").returncode == 0
    assert not alive(first["pid"]) and not alive(second["pid"])
    assert listed(identity) == {}


def test_lots_of_output_reaches_the_log_and_nothing_blocks(identity, service_image):
    state = start(identity, service_image, "chatty", "sh", "-c",
                  "seq 1 200000; echo finished; exec sleep 100000")
    wait_for(lambda: open(state["log_out"]).read().endswith("finished\n"),
             "the output was written")
    with open(state["log_out"]) as log:
        lines = log.read().splitlines()
    assert lines == [str(n) for n in range(1, 200001)] + ["finished"]
    assert list(listed(identity, "chat*")) == ["chatty"]
    assert stop(identity, "chatty").returncode == 0


@pytest.mark.slow
def test_ten_instances_started_at_once_all_run_and_all_stop(identity, service_image):
    names = [f"many-{n}" for n in range(10)]
    starts = [subprocess.Popen(identity.command([str(JUPYTAINER), "instance", "start",
                                                 str(service_image), name]),
                               env=identity.environment(config_env(identity)),
                               cwd=identity.workdir, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
              for name in names]
    for process in starts:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
    states = [entry(identity, name) for name in names]
    namespaces = {namespace_of(state["pid"]) for state in states}
    assert sorted(listed(identity)) == names
    assert len({namespace.inode for namespace in namespaces}) == 10

    stopped = stop(identity, "--all")
    assert stopped.returncode == 0, stopped.stderr
    assert len(stopped.stderr.splitlines()) == 10
    assert [pid for namespace in namespaces for pid in processes_in(namespace)] == []
    assert listed(identity) == {}


def test_joined_commands_share_every_namespace_of_the_instance(identity, service_image):
    state = start(identity, service_image, "spaces",
                  flags=["--fakeroot", "--hostname", "svc", "--net", "--ipc"])
    kinds = ["user", "mnt", "pid", "uts", "ipc", "net"]
    joined = identity.jupytainer("exec", "instance://spaces", "sh", "-c",
                                 "hostname; id -u; for k in " + " ".join(kinds) +
                                 "; do readlink /proc/self/ns/$k; done",
                                 env=config_env(identity))
    assert joined.returncode == 0, joined.stderr
    lines = joined.stdout.splitlines()
    assert lines[:2] == ["svc", "0"]
    assert lines[2:] == [os.readlink(f"/proc/{state['pid']}/ns/{kind}") for kind in kinds]
    assert stop(identity, "spaces").returncode == 0
