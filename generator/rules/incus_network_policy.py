"""Each end of a network policy names something psot can address: `host`, a domain with a network, or a machine with an IP.

AnKLuMe's `network_policies` say what may cross between domains; psot writes
them as each domain network's Incus ACL (generator/platforms/incus/acls.py),
whose rules name subnets and addresses. A `from` or `to` that is no domain,
machine or `host` is a typo the policy would silently lose; a domain without
a network (legacy `base_subnet` addressing and no `subnet_id`) or a machine
without an address (no `ip`, and no `global.addressing` to give it one)
cannot be written as a rule, and the traffic it should allow would be
rejected.

Fix::

    Correct the name (a domain, a machine, or `host`); give the domain a
    network (`global.addressing`, or its `subnet_id`), or the machine an
    `ip`.

Passing::

    project_name: lab
    global:
      addressing: {base_octet: 10, zone_base: 100}
    domains:
      ai-tools:
        machines:
          ollama: {type: lxc}
      pro:
        machines:
          desk: {type: lxc}
    network_policies:
      - {from: pro, to: ollama, ports: [11434]}

Failing::

    project_name: lab
    global:
      addressing: {base_octet: 10, zone_base: 100}
    domains:
      ai-tools:
        machines:
          ollama: {type: lxc}
      pro:
        machines:
          desk: {type: lxc}
    network_policies:
      - {from: pro, to: olama, ports: [11434]}

Finding::

    infra.yml:12:21: error[INC009] network_policies[0].to: 'olama' is no domain, machine or `host`, so the policy allows nothing; did you mean 'ollama'?
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model.incus import domain_networks
from generator.platforms.incus.acls import HOST
from generator.rules.base import Context, Problem, did_you_mean

CODE = "INC009"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    data = ctx.infra.data
    policies = data.get("network_policies") or []
    if not policies:
        return
    networks = domain_networks(data)
    domains = data.get("domains") or {}
    owner = {machine: domain for domain, spec in domains.items()
             for machine in ((spec or {}).get("machines") or {})}
    for index, policy in enumerate(policies):
        for end in ("from", "to"):
            name = policy[end]
            path = ("network_policies", index, end)
            where = f"network_policies[{index}].{end}"
            if name == HOST:
                continue
            if name in domains:
                if name not in networks:
                    yield Problem(f"{where}: domain '{name}' has no network psot knows (no global.addressing and no "
                                  "subnet_id), so the policy cannot be written as an ACL rule; give it a network",
                                  path)
                continue
            if name not in owner:
                yield Problem(f"{where}: '{name}' is no domain, machine or `host`, so the policy allows nothing"
                              f"{did_you_mean(name, sorted(set(domains) | set(owner) | {HOST}))}", path)
                continue
            network = networks.get(owner[name])
            if network is None or name not in network.ips:
                yield Problem(f"{where}: machine '{name}' has no address psot knows, so the policy cannot name it in "
                              "an ACL rule; give it an ip (or its domain global.addressing)", path)
