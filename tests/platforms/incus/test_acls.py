"""`network_policies` as Incus network ACLs (generator/platforms/incus/acls.py): the exact rules, the network that
names its ACL, the apply order, and a real incusd (tests/incusd.py) that accepts them as written.

Under CI the incusd test fails when incusd cannot start; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from generator.pipeline import compile_infra
from tests.incusd import running_incusd
from tests.platforms.incus.test_render import load

INFRA = """\
project_name: lab
global:
  addressing: {base_octet: 10, zone_base: 100}
domains:
  ai-tools:
    trust_level: trusted
    machines:
      ollama: {type: lxc}
      webui: {type: lxc}
  pro:
    machines:
      desk: {type: lxc}
  quiet:
    machines:
      box: {type: lxc}
network_policies:
  - description: pro reaches Ollama
    from: pro
    to: ollama
    ports: [11434]
  - from: host
    to: webui
    ports: [8080, 8443]
    protocol: tcp
  - description: dev and ai, both ways, everything
    from: pro
    to: ai-tools
    ports: all
    bidirectional: true
"""


def tree(tmp_path: Path) -> dict[str, dict]:
    path = tmp_path / "infra.yml"
    path.write_text(INFRA, encoding="utf-8")
    result = compile_infra(path)
    assert result.ok, [f.format() for f in result.diag.findings]
    return {p: yaml.safe_load(c) for p, c in result.tree.items() if p.startswith("incus/")}


def test_every_domain_network_gets_an_acl_with_the_policies_into_it(tmp_path: Path):
    files = tree(tmp_path)
    # trusted: 10.110.0.0/24 (ollama .1, webui .2); semi-trusted: pro 10.120.0.0/24, quiet 10.120.1.0/24.
    assert files["incus/ai-tools/network-acls/psot-ai-tools.yaml"] == {
        "description": "network_policies of domain ai-tools (psot)",
        "config": {},
        "egress": [{"action": "allow", "description": "all egress", "state": "enabled"}],
        "ingress": [
            {"action": "allow", "source": "10.120.0.0/24", "destination": "10.110.0.1/32", "protocol": "tcp",
             "destination_port": "11434", "description": "pro reaches Ollama", "state": "enabled"},
            {"action": "allow", "source": "10.110.0.254/32", "destination": "10.110.0.2/32", "protocol": "tcp",
             "destination_port": "8080,8443", "state": "enabled"},
            {"action": "allow", "source": "10.120.0.0/24", "destination": "10.110.0.0/24",
             "description": "dev and ai, both ways, everything", "state": "enabled"},
        ]}
    assert files["incus/pro/network-acls/psot-pro.yaml"]["ingress"] == [
        {"action": "allow", "source": "10.110.0.0/24", "destination": "10.120.0.0/24",
         "description": "dev and ai, both ways, everything", "state": "enabled"}]
    # A domain no policy reaches still gets one: what crosses into it is rejected, as AnKLuMe drops it.
    assert files["incus/quiet/network-acls/psot-quiet.yaml"]["ingress"] == []
    assert files["incus/quiet/networks/net-quiet.yaml"]["config"]["security.acls"] == "psot-quiet"


def test_without_policies_no_acl_is_written(tmp_path: Path):
    path = tmp_path / "infra.yml"
    path.write_text(INFRA.split("network_policies:")[0], encoding="utf-8")
    result = compile_infra(path)
    assert not [p for p in result.tree if "/network-acls/" in p]
    assert "security.acls" not in yaml.safe_load(result.tree["incus/pro/networks/net-pro.yaml"])["config"]


def test_incusd_takes_the_acls_and_the_networks_that_name_them(tmp_path: Path):
    text = {p: (c if isinstance(c, str) else c.decode()) for p, c in _raw(tmp_path).items()}
    for incusd in running_incusd():
        loaded = load(incusd, text)
        assert [x for x in loaded if "/network-acl/" in x] == [
            "ai-tools/network-acl/psot-ai-tools", "pro/network-acl/psot-pro", "quiet/network-acl/psot-quiet"]


def _raw(tmp_path: Path) -> dict[str, bytes]:
    path = tmp_path / "infra.yml"
    path.write_text(INFRA, encoding="utf-8")
    return {p: c for p, c in compile_infra(path).tree.items() if p.startswith("incus/")}
