"""A VRAM budget larger than its GPU is lowered to what the GPU offers.

The budget (`gpu.budget`, read by the service at run time from its
environment variable) is auto-adjusted to the GPU's VRAM less
`placement.headroom_gb`, and the compose override carries the adjusted value.

Fix::

    Lower `gpu.budget` to what the GPU offers, or pin the consumer to a larger
    GPU. The generated files already carry the lowered budget, so nothing breaks
    meanwhile.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      ai-enrichment: {target: compose, host: ws, gpu: {budget: {gb: 3.5}}}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      ai-enrichment: {target: compose, host: ws, gpu: {budget: {gb: 6.8}}}

Finding::

    infra.yml:9:65: warning[VRAM001] ai-enrichment budget (6.8 GB) exceeds GPU 1 (ws/rtx-a400), 4 GB. Auto-adjusted to 3.5 GB.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.placement.core import fmt_gb
from generator.rules.base import Context, Problem

CODE = "VRAM001"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    for consumer in ctx.consumers():
        budget = consumer.request.budget
        assignment = ctx.need_placement().assignments[consumer.name]
        if budget is None or assignment.budget_gb is None or assignment.budget_gb >= budget.gb:
            continue
        smallest = min((infra.gpus[k] for k in assignment.gpus), key=lambda g: (g.vram_gb, g.key))
        yield Problem(f"{consumer.name} budget ({fmt_gb(budget.gb)} GB) exceeds {infra.gpu_label(smallest.key)}, "
                      f"{fmt_gb(smallest.vram_gb)} GB. Auto-adjusted to {fmt_gb(assignment.budget_gb)} GB.",
                      budget.path)
