"""Keys and command lines that reach a platform's CLI as arguments: INC006 (Incus config and device option
keys), K8S005 (label and taint key prefixes), COMPOSE002 (global.compose.command).

The docstring examples are compiled by test_docstrings.py; these are the variants they do not show, each
with its exact finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from generator.rules.incus_config_keys import is_config_key, is_device_key


@pytest.fixture
def findings(infra_file, monkeypatch):
    """The formatted findings of one code for an infra.yml, named as users see it."""
    def run(text: str, code: str) -> list[str]:
        path = infra_file(text)
        monkeypatch.chdir(path.parent)
        return [f.format() for f in compile_infra(Path(path.name)).diag.findings if f.code == code]
    return run


MACHINE = """\
project_name: lab
global: {{}}
domains:
  ai-tools:
    machines:
      gpu-server:
        type: lxc
        config:
          {key}: "1"
"""

PROFILE_DEVICE = """\
project_name: lab
global: {{}}
domains:
  ai-tools:
    profiles:
      gpu:
        devices:
          gpu:
            type: gpu
            {key}: "0000:01:00.0"
    machines:
      gpu-server: {{type: lxc, profiles: [default, gpu]}}
"""


@pytest.mark.parametrize("key, why", [
    ("--help", "it starts with '-', which the incus command would read as an option"),
    ("-user.x", "it starts with '-', which the incus command would read as an option"),
    ("user.a=b", "it has '='; Incus would read 'user.a' = 'b=1' on update"),
    ('"user.\\x01x"', "it has the character U+0001"),
    ('"user.\\u200bx"', "it has the character U+200B"),
    ("cpu", "it has no '.' (every Incus config key has a namespace, e.g. user.NAME)"),
    ("Limits.cpu", "it does not start with a lower-case letter"),
    ("limits..cpu", "it has a character or an empty word that Incus keys do not have"),
    ("limits.cpu.", "it has a character or an empty word that Incus keys do not have"),
    ("user.a/b", "it has a character or an empty word that Incus keys do not have"),
])
def test_a_config_key_that_is_no_incus_key_is_refused_at_its_line(findings, key, why):
    shown = {'"user.\\x01x"': "user.\\x01x", '"user.\\u200bx"': "user.\\u200bx"}.get(key, key)
    assert findings(MACHINE.format(key=key), "INC006") == [
        f"infra.yml:9:11: error[INC006] machine 'gpu-server' config key '{shown}' is not an Incus key (dotted "
        f"words of letters, digits, '_' and '-', e.g. limits.cpu): {why}"]


@pytest.mark.parametrize("key", ["limits.cpu", "limits.hugepages.2MB", "environment.HTTP_PROXY", "user.meta-data",
                                 "linux.sysctl.net.ipv4.ip_forward", "cloud-init.user-data", "volatile.eth0.hwaddr",
                                 "security.syscalls.intercept.mknod", "boot.host_shutdown_timeout"])
def test_incus_own_keys_pass(findings, key):
    assert is_config_key(key)
    assert findings(MACHINE.format(key=key), "INC006") == []


def test_a_device_option_with_an_equals_sign_is_refused_at_its_line(findings):
    assert findings(PROFILE_DEVICE.format(key="pci=x"), "INC006") == [
        "infra.yml:10:13: error[INC006] profile 'gpu' device 'gpu' option 'pci=x' is not an Incus device option "
        "(words of letters, digits, '_' and '-', joined by dots, e.g. gputype or mig.uuid): it has '='; Incus would "
        "read 'pci' = 'x=0000:01:00.0' on update"]


def test_a_device_option_that_is_an_option_of_incus_is_refused(findings):
    assert findings(PROFILE_DEVICE.format(key="--help"), "INC006") == [
        "infra.yml:10:13: error[INC006] profile 'gpu' device 'gpu' option '--help' is not an Incus device option "
        "(words of letters, digits, '_' and '-', joined by dots, e.g. gputype or mig.uuid): it starts with '-', "
        "which the incus command would read as an option"]


@pytest.mark.parametrize("key", ["pci", "gputype", "mig.uuid", "boot.priority", "ipv4.address", "host_name",
                                 "limits.max"])
def test_device_options_of_incus_pass(key):
    assert is_device_key(key)


def test_a_taint_key_prefix_over_253_characters_is_refused_at_its_line(findings):
    prefix = ".".join(["a" * 63] * 4) + ".example.com"
    text = ("project_name: homelab\nglobal: {}\ndomains: {}\nhosts:\n  khelben:\n    platform: kubernetes\n"
            f"    taints:\n    - {{key: {prefix}/gpu, effect: NoSchedule}}\n")
    assert findings(text, "K8S005") == [
        "infra.yml:8:13: error[K8S005] host 'khelben' taint key 'aaaaaaaaaaaaaaaaaaaa…aaaa.example.com/gpu': its "
        "prefix has 267 characters, Kubernetes allows at most 253; shorten it"]


def test_a_prefix_of_253_characters_passes(findings):
    prefix = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(prefix) == 253
    text = ("project_name: homelab\nglobal: {}\ndomains: {}\nhosts:\n  khelben:\n    platform: kubernetes\n"
            f"    labels: {{{prefix}/tier: fast}}\n")
    assert findings(text, "K8S005") == []


COMPOSE = "project_name: lab\nglobal:\n  compose: {{command: {command}}}\ndomains: {{}}\n"


@pytest.mark.parametrize("command, shown, why", [
    ("'-v'", "-v", "starts with '-v', an option, not a program; write the program first, e.g. docker compose"),
    ("\"''\"", "''", "has no program; write e.g. docker compose"),
    ('"docker\\ncompose"', "docker\\x0acompose", "has a control character or a line break; write it on one line"),
    ("\"docker 'compose\"", "docker 'compose", "cannot be split into words: No closing quotation; close every quote"),
])
def test_a_compose_command_apply_could_not_run_is_refused_at_its_line(findings, command, shown, why):
    assert findings(COMPOSE.format(command=command), "COMPOSE002") == [
        f"infra.yml:3:22: error[COMPOSE002] global.compose.command '{shown}' {why}"]


@pytest.mark.parametrize("command", ["docker compose", "podman-compose", "/usr/local/bin/docker compose",
                                     "'/opt/my tools/compose' --ansi never"])
def test_compose_commands_that_split_pass(findings, command):
    assert findings(COMPOSE.format(command=f'"{command}"' if "'" in command else f"'{command}'"),
                    "COMPOSE002") == []
