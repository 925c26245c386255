"""Apptainer's environment flags end to end: --no-env, --no-eval and --shell, as root and
as an unprivileged user, through the command line into the container's processes."""

import pytest

pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


def test_no_env_hides_a_host_variable(identity, images):
    env = {"FOO": "from-host", "BAR": "kept", "BAZ": "also-hidden"}
    script = 'echo "[$FOO][$BAR][$BAZ]"'
    result = identity.jupytainer("exec", "--no-env", "FOO", "--no-env=BAZ", images.sandbox,
                                 "sh", "-c", script, env=env)
    assert result.stdout == "[][kept][]\n", result
    assert result.returncode == 0


def test_no_env_takes_a_comma_list(identity, images):
    env = {"FOO": "from-host", "BAR": "kept", "BAZ": "also-hidden"}
    result = identity.jupytainer("exec", "--no-env", "FOO,BAZ", images.sif,
                                 "sh", "-c", 'echo "[$FOO][$BAR][$BAZ]"', env=env)
    assert result.stdout == "[][kept][]\n", result
    assert result.returncode == 0


def test_no_eval_keeps_an_env_value_literal(identity, images):
    literal = identity.jupytainer("exec", "--no-eval", "--env", "X=$HOME", images.sandbox,
                                  "sh", "-c", 'echo "$X"')
    evaluated = identity.jupytainer("exec", "--env", "X=$HOME", images.sandbox,
                                    "sh", "-c", 'echo "$X"')
    assert literal.stdout == "$HOME\n", literal
    assert evaluated.stdout != "$HOME\n", evaluated
    assert literal.returncode == evaluated.returncode == 0


def test_shell_starts_the_shell_given(identity, images):
    result = identity.jupytainer("shell", "--shell", "/bin/ash", images.sandbox,
                                 input='echo "$0 $APPTAINER_SHELL"\n')
    assert result.stdout == "/bin/ash /bin/ash\n", result
    assert result.returncode == 0
