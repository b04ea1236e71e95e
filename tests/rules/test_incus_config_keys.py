"""INC006 (incus_config_keys.py): Incus config keys and device option keys, which reach the incus command as
arguments, have the shape of Incus keys.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

import pytest

from generator.rules.incus_config_keys import is_config_key, is_device_key
from tests.rules import helpers

findings = helpers.findings


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
