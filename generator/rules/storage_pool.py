"""A model with `disk_gb` on a host with several storage pools names none of them (`model.pool`).

STO001 counts a model against the pool it is stored on: `model.pool`, or the
host's only pool. With several pools psot cannot tell which one the files go
to, so the model would not be checked at all: a download could then fail
on a full root while a large pool beside it sits empty.

Fix::

    Set `model.pool` to the pool that holds the model's files.

Passing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      homelab:
        storage:
          root: {size_gb: 20, free_gb: 0.000028}
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
          root: {size_gb: 20, free_gb: 0.000028}
          staging-pool: {size_gb: 675, free_gb: 675}
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0}
    workloads:
      ollama:
        target: compose
        host: homelab
        model: {name: "llama3.2:3b", disk_gb: 2}

Finding::

    infra.yml:15:43: warning[STO002] ollama: host 'homelab' has several storage pools (root, staging-pool) and model.pool names none, so its 2 GB are not checked against free space; set model.pool to the pool that holds its files
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem
from generator.rules.storage import fmt_size

CODE = "STO002"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    hosts = ctx.infra.hosts
    for workload in ctx.infra.workloads.values():
        model, host = workload.model, workload.host
        if model.disk_gb is None or model.pool is not None or host is None or host not in hosts:
            continue
        storage = hosts[host].storage
        if len(storage) > 1:
            yield Problem(f"{workload.name}: host '{host}' has several storage pools ({', '.join(storage)}) and "
                          f"model.pool names none, so its {fmt_size(float(model.disk_gb))} are not checked against "
                          "free space; set model.pool to the pool that holds its files",
                          workload.path + ("model", "disk_gb"))
