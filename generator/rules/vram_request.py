"""A consumer needs more VRAM than its pinned GPU, or than any GPU it could get.

Warn but allow: the message names the pinned GPU, or the largest eligible
one. A consumer with a `budget` is exempt: its budget shrinks to the GPU
(VRAM001 says so).

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

    infra.yml:13:42: warning[VRAM003] Nemotron-30B requires ~21.7 GB, GPU 1 only has 4 GB
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.placement.core import fmt_gb
from generator.placement.eligibility import eligible
from generator.rules.base import Context, Problem

CODE = "VRAM003"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    for consumer in ctx.consumers():
        request = consumer.request
        keys = ctx.gpus_of(consumer)
        if request.budget is not None or not keys:
            continue
        if request.pin_gpu in keys:
            named = infra.gpus[request.pin_gpu]
        else:
            # A GPU passed through to another consumer's VM is no candidate: it serves nothing else.
            candidates = [g for g in eligible(consumer, infra)
                          if not any(infra.consumers[o].request.passthrough
                                     for o in ctx.need_placement().gpus[g.key].consumers if o != consumer.name)]
            named = max(candidates or [infra.gpus[k] for k in keys], key=lambda g: (g.vram_gb, g.key))
        if request.vram_gb > named.vram_gb:
            yield Problem(f"{consumer.label} requires ~{fmt_gb(request.vram_gb)} GB, "
                          f"{infra.gpu_label(named.key)} only has {fmt_gb(named.vram_gb)} GB", consumer.vram_path)
