"""A workload's `model.pool` names a storage pool of its host (`hosts.<host>.storage`).

Workloads without `host` (Kubernetes workloads that placement puts on a
node) are not checked, nor are those whose host is undefined (REF001).

Fix::

    Correct the pool name, as the message suggests, or add the pool under the
    host's `storage`.

Passing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      homelab:
        storage:
          staging-pool: {size_gb: 675, free_gb: 675}
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0}
    workloads:
      ollama:
        target: compose
        host: homelab
        model: {name: "llama3.2:3b", disk_gb: 2, pool: staging-pool}

Failing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      homelab:
        storage:
          staging-pool: {size_gb: 675, free_gb: 675}
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0}
    workloads:
      ollama:
        target: compose
        host: homelab
        model: {name: "llama3.2:3b", disk_gb: 2, pool: staging-pol}

Finding::

    infra.yml:14:52: error[REF004] ollama: pool 'staging-pol' is not defined under hosts.homelab.storage; did you mean 'staging-pool'?
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, did_you_mean

CODE = "REF004"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    hosts = ctx.infra.hosts
    for workload in ctx.infra.workloads.values():
        name, pool, host = workload.name, workload.model.pool, workload.host
        if pool is None or host is None or host not in hosts:
            continue
        storage = hosts[host].storage
        if pool in storage:
            continue
        path = workload.path + ("model", "pool")
        if not storage:
            yield Problem(f"{name}: pool '{pool}' is not defined: host '{host}' has no storage pools; add "
                          f"hosts.{host}.storage.{pool} with its size_gb and free_gb", path)
            continue
        hint = did_you_mean(pool, storage) or f"; define it there or use one of: {', '.join(storage)}"
        yield Problem(f"{name}: pool '{pool}' is not defined under hosts.{host}.storage" + hint, path)
