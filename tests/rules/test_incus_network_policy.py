"""INC009 (incus_network_policy.py): a network policy's ends must be addressable; beyond the docstring example:
a domain without a network, a machine without an address, `host`, and what stays quiet."""

from __future__ import annotations

from generator.pipeline import compile_infra
from tests.rules import helpers

infra_file = helpers.infra_file

LEGACY = """\
project_name: lab
global: {base_subnet: "10.100"}
domains:
  ai-tools:
    subnet_id: 3
    machines:
      ollama: {type: lxc, ip: 10.100.3.10}
      webui: {type: lxc}
  pro:
    machines:
      desk: {type: lxc}
network_policies:
  - {from: host, to: ollama, ports: [11434]}
  - {from: pro, to: webui, ports: all}
"""


def inc009(infra_file, text: str) -> list[str]:
    return [f.format() for f in compile_infra(infra_file(text), until="validate").diag.findings
            if f.code == "INC009"]


def test_legacy_addressing_names_only_what_has_an_address(infra_file):
    assert inc009(infra_file, LEGACY) == [
        "infra.yml:14:12: error[INC009] network_policies[1].from: domain 'pro' has no network psot knows (no "
        "global.addressing and no subnet_id), so the policy cannot be written as an ACL rule; give it a network",
        "infra.yml:14:21: error[INC009] network_policies[1].to: machine 'webui' has no address psot knows, so the "
        "policy cannot name it in an ACL rule; give it an ip (or its domain global.addressing)"]


def test_host_and_addressed_machines_are_quiet(infra_file):
    assert inc009(infra_file, LEGACY.replace("  - {from: pro, to: webui, ports: all}\n", "")) == []
