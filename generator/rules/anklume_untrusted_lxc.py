"""A machine of an `untrusted` or `disposable` domain should be a VM: an LXC container shares the host kernel.

In AnKLuMe, `untrusted` domains run third-party software and risky
browsing, and `disposable` ones are the ephemeral sandboxes where untrusted
code is sent (the lowest trust level): both run code that may attack the
kernel. A container escape reaches the host; a VM has a kernel of its own.
GPU access widens the hole, as the container talks to the host's GPU driver.
A warning, since a container can be a deliberate choice.

AnKLuMe's security audit (FINDING-04, LXC container escape surface): "Default to VM for untrusted/disposable trust levels".

Fix::

    Set `type: vm` on the machine. If a container is a deliberate choice, keep it
    and accept the warning, or move the machine to a domain of a higher trust level.

Passing::

    project_name: lab
    global: {}
    domains:
      sandbox:
        trust_level: untrusted
        machines:
          sandbox-web: {type: vm}

Failing::

    project_name: lab
    global: {}
    domains:
      sandbox:
        trust_level: untrusted
        machines:
          sandbox-web: {type: lxc}

Finding::

    infra.yml:7:27: warning[ANK001] sandbox-web: domain 'sandbox' is untrusted, but sandbox-web is an LXC container (type: lxc), which shares the host kernel; set type: vm to give it a kernel of its own
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "ANK001"
SEVERITY = "warning"
STAGE = "model"

LOW_TRUST = ("untrusted", "disposable")


def check(ctx: Context) -> Iterator[Problem]:
    consumers = ctx.infra.consumers
    for domain in ctx.infra.domains.values():
        level = domain.trust_level
        if level not in LOW_TRUST:
            continue
        for machine in domain.machines.values():
            if machine.type != "lxc":
                continue
            consumer = consumers.get(machine.name)
            gpu = consumer is not None and consumer.path == machine.path
            what = "an LXC container with GPU access" if gpu else "an LXC container"
            written = "type: lxc" if machine.type_written else "type: lxc, the default"
            shares = "the host kernel and its GPU driver" if gpu else "the host kernel"
            fix = "set type: vm to give it a kernel of its own"
            if any(d.gputype == "mig" for d in machine.expanded_gpu_devices):
                fix += ", and an mdev or sriov GPU instead of mig, which only containers take"
            message = (f"{machine.name}: domain '{domain.name}' is {level}, but {machine.name} is {what} "
                       f"({written}), which shares {shares}; {fix}")
            if machine.type_written:
                yield Problem(message, machine.path + ("type",))
            else:
                yield Problem(message, machine.path, at="key")
