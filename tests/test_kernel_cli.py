"""`jupytainer kernel install|list|remove`: kernelspecs Jupyter sees, whose argv is a
complete `jupytainer exec` command line, and one line for each mistake."""

import json

import pytest
from conftest import JUPYTAINER
from kernel_images import bullseye_kernel_image
from kernel_support import KernelSetup


def kernel_json(setup: KernelSetup, name: str) -> dict:
    path = setup.prefix / "share" / "jupyter" / "kernels" / name / "kernel.json"
    return json.loads(path.read_text())


def test_install_writes_a_provisioner_kernelspec_jupyter_lists(identity, images):
    setup = KernelSetup(identity)
    data = identity.workdir

    installed = setup.install(images.sif, "box", "--bind", f"{data}:/mnt", "--contain",
                              "--env", "LANG=C.UTF-8", "--display-name", "Busybox")

    assert installed.returncode == 0, installed.stderr
    spec = kernel_json(setup, "box")
    assert spec["display_name"] == "Busybox"
    assert spec["metadata"]["kernel_provisioner"] == {
        "provisioner_name": "jupytainer",
        "config": {"image": str(images.sif), "binds": [f"{data}:/mnt"], "contain": True,
                   "env": {"LANG": "C.UTF-8"}}}
    listed = identity.run(["/opt/jupytainer/venv/bin/jupyter", "kernelspec", "list"],
                          env=setup.env)
    assert "box" in listed.stdout.split(), listed.stdout
    ours = identity.jupytainer("kernel", "list", env=setup.env)
    assert ["box", "Busybox", str(images.sif)] in [line.split() for line in
                                                   ours.stdout.splitlines()]


def test_the_argv_is_a_jupytainer_exec_command_never_a_bare_python(identity, images):
    setup = KernelSetup(identity)
    assert setup.install(images.sif, "box", "--bind", "/srv", "--no-home").returncode == 0

    argv = kernel_json(setup, "box")["argv"]

    assert argv[:4] == [str(JUPYTAINER), "exec", "--bind", "/srv"]
    assert argv[-6:] == [str(images.sif), "python3", "-m", "ipykernel_launcher", "-f",
                         "{connection_file}"]
    flags = argv[4:-6]
    assert "--no-home" in flags
    assert "JPY_PARENT_PID=1" in flags and "PYTHONNOUSERSITE=1" in flags


def test_remove_deletes_the_kernelspec(identity, images):
    setup = KernelSetup(identity)
    assert setup.install(images.sif, "box").returncode == 0

    removed = identity.jupytainer("kernel", "remove", "box", env=setup.env)

    assert removed.returncode == 0, removed.stderr
    listed = identity.jupytainer("kernel", "list", env=setup.env).stdout
    assert "box" not in [line.split()[0] for line in listed.splitlines()]


@pytest.mark.slow
def test_from_image_installs_the_kernels_the_image_declares(identity):
    setup = KernelSetup(identity)
    image = bullseye_kernel_image()

    installed = identity.jupytainer("kernel", "install", image, "--from-image", "--prefix",
                                    setup.prefix, env=setup.env)

    assert installed.returncode == 0, installed.stderr
    name = f"jupytainer-{image.stem}-python3"
    spec = kernel_json(setup, name)
    assert spec["display_name"] == f"Python 3 ({image.name})"
    config = spec["metadata"]["kernel_provisioner"]["config"]
    assert config["image"] == str(image)
    assert config["kernel_argv"] == ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f",
                                     "{connection_file}"]
    assert setup.drive("start-error", name)["answer"] == "started\n"


@pytest.mark.parametrize("arguments, message", [
    (["remove", "no-such-kernel"], "no container kernel named no-such-kernel"),
    (["install", "/no/such.sif"], "image /no/such.sif does not exist"),
    (["install", "IMAGE", "--name", "bad name"], "kernel name 'bad name' is not valid"),
    (["install", "IMAGE", "--env", "NOVALUE"], "--env NOVALUE is not NAME=VALUE"),
    (["install", "IMAGE", "--from-image", "--kernel-command", "R"], "exclude each other"),
], ids=["unknown kernel", "missing image", "bad name", "bad env", "from-image and argv"])
def test_mistakes_are_one_fatal_line(identity, images, arguments, message):
    setup = KernelSetup(identity)
    arguments = [str(images.sif) if word == "IMAGE" else word for word in arguments]

    result = identity.jupytainer("kernel", *arguments, "--prefix", setup.prefix,
                                 env=setup.env) if arguments[0] == "install" else \
        identity.jupytainer("kernel", *arguments, env=setup.env)

    assert result.returncode == 255
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("FATAL:"), result.stderr
    assert message in result.stderr


@pytest.mark.slow
def test_the_argv_alone_starts_the_kernel_for_clients_that_ignore_provisioners(identity):
    setup = KernelSetup(identity)
    assert setup.install(bullseye_kernel_image(), "plain").returncode == 0
    spec_file = setup.prefix / "share" / "jupyter" / "kernels" / "plain" / "kernel.json"
    spec = json.loads(spec_file.read_text())
    del spec["metadata"]["kernel_provisioner"]
    spec_file.write_text(json.dumps(spec))

    answer = setup.drive("ask", "plain", "print(open('/etc/os-release').read())")

    assert "VERSION_CODENAME=bullseye" in answer["output"]
    assert setup.leftovers() == []


def test_list_lines_up_the_image_column(identity, images):
    setup = KernelSetup(identity)
    assert setup.install(images.sif, "a", "--display-name", "Short").returncode == 0
    assert setup.install(images.sif, "b", "--display-name", "A much longer name").returncode == 0

    listed = identity.jupytainer("kernel", "list", env=setup.env).stdout.splitlines()

    ours = [line for line in listed if line.split()[0] in ("a", "b")]
    assert len(ours) == 2 and len({line.index(str(images.sif)) for line in ours}) == 1, listed
