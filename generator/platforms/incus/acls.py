"""AnKLuMe's `network_policies` as Incus network ACLs: one per domain network, its other traffic rejected.

AnKLuMe drops all traffic between domains and lets `network_policies` make
exceptions (`from`/`to` a domain, a machine or `host`, `ports` or `all`,
`protocol`, `bidirectional`); its own generator does it with nftables on the
host. psot writes the same policy in Incus's own format, a network ACL per
domain network (`incus network acl`, Incus documentation "Network ACLs"):
once an ACL is set on a bridge (`security.acls`), traffic no rule allows is
rejected (`security.acls.default.ingress.action` and `…egress.action`
default to `reject`). On a bridge, ACLs apply where the bridge meets the
host ("Bridge limitations": machines of one bridge reach each other whatever
the ACL, and DHCP and DNS to the bridge, the baseline services, are allowed
before the ACL's rules). So each ACL allows:

- ingress for each policy whose `to` is the domain or one of its machines,
  from the `from` domain's subnet, machine's address, or, for `host`, the
  network's own gateway (the host talks to a bridge from its address
  there); on the policy's ports and protocol (`all`: any);
- a `bidirectional` policy the same way back;
- all egress (what leaves is judged by the ACL of the network it reaches).

ACLs are written only when infra.yml has `network_policies`: without them
psot leaves the domains' traffic to whatever the host does, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.model.incus import Network

HOST = "host"


def acl_name(domain: str) -> str:
    return f"psot-{domain}"


def _where(name: str, networks: Mapping[str, Network], owner: Mapping[str, str], into: Network) -> str | None:
    """The address or subnet a policy end names, as seen from network `into`; None when psot cannot name it."""
    if name == HOST:
        return f"{into.gateway}/32"
    if name in networks:
        return networks[name].subnet
    domain = owner.get(name)
    if domain is not None and domain in networks and name in networks[domain].ips:
        return f"{networks[domain].ips[name]}/32"
    return None


def _destination(name: str, networks: Mapping[str, Network], owner: Mapping[str, str]) -> tuple[str, str] | None:
    """(domain, destination) of a policy's `to`: the domain's subnet or the machine's address."""
    if name in networks:
        return name, networks[name].subnet
    domain = owner.get(name)
    if domain is not None and domain in networks and name in networks[domain].ips:
        return domain, f"{networks[domain].ips[name]}/32"
    return None


def _rule(policy: Mapping[str, Any], source: str, destination: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": "allow", "source": source, "destination": destination}
    ports = policy.get("ports", "all")
    if ports != "all":
        rule["protocol"] = policy.get("protocol", "tcp")
        rule["destination_port"] = ",".join(str(p) for p in ports)
    if policy.get("description"):
        rule["description"] = policy["description"]
    rule["state"] = "enabled"
    return rule


def network_acls(data: Mapping[str, Any], networks: Mapping[str, Network]) -> dict[str, dict[str, Any]]:
    """domain -> the body of its network's ACL (`incus network acl create NAME < file`); empty without
    `network_policies`. A policy end psot cannot name (a machine without an address) is INC009's finding."""
    policies = data.get("network_policies")
    if not policies:
        return {}
    domains = data.get("domains") or {}
    owner = {machine: domain for domain, spec in domains.items()
             for machine in ((spec or {}).get("machines") or {})}
    ingress: dict[str, list[dict[str, Any]]] = {domain: [] for domain in sorted(networks)}
    for policy in policies:
        pairs = [(policy["from"], policy["to"])]
        if policy.get("bidirectional", False):
            pairs.append((policy["to"], policy["from"]))
        for source_name, target_name in pairs:
            target = _destination(target_name, networks, owner)
            if target is None:
                continue
            domain, destination = target
            source = _where(source_name, networks, owner, networks[domain])
            if source is not None:
                ingress[domain].append(_rule(policy, source, destination))
    return {domain: {"description": f"network_policies of domain {domain} (psot)",
                     "config": {}, "egress": [{"action": "allow", "description": "all egress", "state": "enabled"}],
                     "ingress": rules}
            for domain, rules in ingress.items()}
