"""Each compose service on a host is configured by one workload only.

Two workloads naming the same `service` on one host would both write its
entry in the host's override file.

Fix::

    Give one of the workloads another `service`, or merge the two workloads into
    one.

Passing::

    project_name: lab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx: {vendor: nvidia, vram_gb: 24, index: 0}
    workloads:
      llm: {target: compose, host: ws, service: ollama}
      embed: {target: compose, host: ws, service: embeddings}

Failing::

    project_name: lab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx: {vendor: nvidia, vram_gb: 24, index: 0}
    workloads:
      llm: {target: compose, host: ws, service: ollama}
      embed: {target: compose, host: ws, service: ollama}

Finding::

    infra.yml:10:3: error[NAME003] embed: compose service 'ollama' on host 'ws' is already configured by workload 'llm'; set a different `service`
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "NAME003"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    seen: dict[tuple, str] = {}
    for consumer in ctx.consumers():
        if consumer.target != "compose":
            continue
        key = (consumer.host, ctx.infra.workloads[consumer.name].service)
        if key in seen:
            yield Problem(f"{consumer.name}: compose service '{key[1]}' on host '{key[0]}' is already configured "
                          f"by workload '{seen[key]}'; set a different `service`", consumer.path, at="key")
        else:
            seen[key] = consumer.name
