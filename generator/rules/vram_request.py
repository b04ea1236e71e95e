"""A consumer needs more VRAM than a GPU it is placed on.

Warn but allow: the message names the GPU placement put it on (the smallest
of its GPUs it does not fit on), whether a pin or the strategy chose it. A
consumer with a `budget` is exempt: its budget shrinks to the GPU (VRAM001
says so). Its GPU is also named by VRAM002, which lists everyone on it.

Fix::

    Pin the consumer to a GPU with enough VRAM, use a smaller model (and lower
    `vram_gb`), or give it a `budget` that psot can lower to fit.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      ai-llm:
        target: compose
        host: ws
        model: {name: Nemotron-30B, vram_gb: 21.7}
        gpu: {pin: rtx-a5500}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      ai-llm:
        target: compose
        host: ws
        model: {name: Nemotron-30B, vram_gb: 21.7}
        gpu: {pin: rtx-a400}

Finding::

    infra.yml:13:42: warning[VRAM003] Nemotron-30B requires ~21.7 GB, GPU 1 (ws/rtx-a400) only has 4 GB
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.placement.core import fmt_gb
from generator.rules.base import Context, Problem

CODE = "VRAM003"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    for consumer in ctx.consumers():
        request = consumer.request
        if request.budget is not None:
            continue
        small = [infra.gpus[k] for k in ctx.gpus_of(consumer) if request.vram_gb > infra.gpus[k].vram_gb]
        if small:
            named = min(small, key=lambda g: (g.vram_gb, g.key))
            yield Problem(f"{consumer.label} requires ~{fmt_gb(request.vram_gb)} GB, "
                          f"{infra.gpu_label(named.key)} only has {fmt_gb(named.vram_gb)} GB", consumer.vram_path)
