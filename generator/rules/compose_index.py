"""Every GPU of a host that runs compose workloads has an `index`.

Docker selects a GPU by its index (nvidia-smi's GPU number; the ROCm index
for AMD, the DRM card number for Intel), so the override cannot name a GPU
without it.

Fix::

    Add the GPU's `index`: nvidia-smi's GPU number for an NVIDIA card, the ROCm
    index for an AMD one, the `/dev/dri/cardN` number for an Intel one. `psot
    detect` writes it for you.

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
          rtx: {vendor: nvidia, vram_gb: 24}
    workloads:
      llm: {target: compose, host: ws}

Finding::

    infra.yml:7:7: error[COMPOSE001] GPU ws/rtx has no `index`; compose workloads run on host 'ws' and Docker selects GPUs by index (nvidia-smi's GPU number)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms import compose
from generator.rules.base import Context, Problem

CODE = "COMPOSE001"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    hosts = ctx.infra.hosts
    compose_hosts = sorted({c.host for c in ctx.consumers() if c.target == compose.NAME and c.host is not None and c.host in hosts})
    for host_name in compose_hosts:
        for gpu in hosts[host_name].gpus:
            if gpu.index is None and gpu.status != "unavailable":
                yield Problem(f"GPU {gpu.key} has no `index`; compose workloads run on host '{host_name}' and "
                              "Docker selects GPUs by index (nvidia-smi's GPU number)", gpu.path, at="key")
