"""Models need more disk than their storage pool has free (`disk_gb` against `free_gb`).

A model download that would fail with "No space left on device" on a full
root is caught at compile time, before anything is applied. Every workload
whose `model` has `disk_gb` and whose host declares `storage` is counted
against a pool of that host: `model.pool`, or the host's only pool when
`pool` is not given. A model without `pool` on a host with several pools is
not counted (psot cannot tell where it goes; write `pool`). Models that
share a pool add up, in file order; the finding points at the `disk_gb` of
the model that makes the pool overflow, names the models on the pool when
there are several, and suggests another pool of the host with room. A pool
without `free_gb` is not checked; an undefined pool is REF004. Sizes below
1 GB print in MB or KB (1 GB = 1000 MB = 1,000,000 KB), so that 28 KB free
does not read "0 GB".

Fix::

    Free space on the pool and update its `free_gb`, or store the model on
    another pool of the host (`model.pool`); the message names one with room when
    there is one.

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
        model: {name: "llama3.2:3b", vram_gb: 3.4, disk_gb: 2, pool: staging-pool}

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
        model: {name: "llama3.2:3b", vram_gb: 3.4, disk_gb: 2, pool: root}

Finding::

    infra.yml:15:57: error[STO001] ollama: model llama3.2:3b needs 2 GB on pool 'root' of host 'homelab', which has 28 KB free; free 2 GB there or set model.pool to 'staging-pool' (675 GB free)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model.storage import stored_models
from generator.placement.core import fmt_gb
from generator.rules.base import Context, Problem

CODE = "STO001"
SEVERITY = "error"
STAGE = "model"


def fmt_size(gb: float) -> str:
    """A size given in GB as people read it: 2 -> '2 GB', 0.5 -> '500 MB', 0.000028 -> '28 KB' (STO001, STO002)."""
    if gb >= 1 or gb <= 0:
        return f"{fmt_gb(max(gb, 0.0))} GB"
    if gb >= 0.001:
        return f"{fmt_gb(gb * 1000)} MB"
    return f"{fmt_gb(gb * 1_000_000)} KB"


def check(ctx: Context) -> Iterator[Problem]:
    for (host, pool), models in stored_models(ctx.infra).items():
        storage = ctx.infra.hosts[host].storage
        free = storage[pool].free_gb
        if free is None:
            continue
        running = 0.0
        for culprit in models:
            running += culprit.disk_gb
            if running > free:
                break
        else:
            continue
        needed = sum(m.disk_gb for m in models)
        if len(models) == 1:
            what = "its model needs" if culprit.name is None else f"model {culprit.name} needs"
            text = (f"{culprit.workload}: {what} {fmt_size(needed)} on pool '{pool}' of host '{host}', "
                    f"which has {fmt_size(free)} free")
        else:
            listed = ", ".join(f"{m.label} {fmt_size(m.disk_gb)}" for m in models)
            text = (f"{culprit.workload}: pool '{pool}' of host '{host}' has {fmt_size(free)} free but its "
                    f"models need {fmt_size(needed)} ({listed})")
        text += f"; free {fmt_size(needed - free)} there"
        roomy = [(name, p.free_gb) for name, p in storage.items()
                 if name != pool and p.free_gb is not None and p.free_gb >= culprit.disk_gb]
        if roomy:
            text += " or set model.pool to " + " or ".join(f"'{name}' ({fmt_size(room)} free)" for name, room in roomy)
        yield Problem(text, culprit.path)
