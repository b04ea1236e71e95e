"""A workload's `host` names a host defined under `hosts`.

A compose or Proxmox workload runs on the host it names, and placement gives
it only that host's GPUs: a name that is not under `hosts` leaves it nowhere
to run. The message suggests the closest host name.

Fix::

    Correct the name, as the message suggests, or add the host under `hosts`.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx: {vendor: nvidia, vram_gb: 24, index: 0}
    workloads:
      llm: {target: compose, host: ws}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx: {vendor: nvidia, vram_gb: 24, index: 0}
    workloads:
      llm: {target: compose, host: wss}

Finding::

    infra.yml:9:32: error[REF001] llm: host 'wss' is not defined under hosts; did you mean 'ws'?
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, did_you_mean

CODE = "REF001"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    hosts = ctx.infra.hosts
    for consumer in ctx.consumers():
        if consumer.host is not None and consumer.host not in hosts:
            yield Problem(f"{consumer.name}: host '{consumer.host}' is not defined under hosts"
                          + did_you_mean(consumer.host, hosts), consumer.path + ("host",))
