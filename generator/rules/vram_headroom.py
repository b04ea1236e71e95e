"""A GPU within its capacity but inside its headroom: less than `placement.headroom_gb` stays free.

Placement keeps `headroom_gb` free on every GPU when it can; when pins or the
number of GPUs leave it no choice, it warns, one warning per GPU listing
everyone on it (a GPU over capacity gets VRAM002 instead).

Fix::

    Move a consumer to another GPU (a pin, or another strategy), lower the
    estimates that are too high, or lower `placement.headroom_gb`.

Passing::

    project_name: lab
    global: {placement: {headroom_gb: 0.5}}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      ai-whisper: {target: compose, host: ws, model: {name: whisper-large-v3, vram_gb: 3.5}}

Failing::

    project_name: lab
    global: {placement: {headroom_gb: 0.5}}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      ai-whisper: {target: compose, host: ws, model: {name: whisper-large-v3, vram_gb: 3.8}}

Finding::

    infra.yml:7:7: warning[VRAM004] GPU 1 (ws/rtx-a400) keeps 0.2 GB free, less than the 0.5 GB headroom: ai-whisper use 3.8 of 4 GB
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.placement.core import fmt_gb
from generator.rules.base import Context, Problem, by_name, names

CODE = "VRAM004"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    headroom = infra.headroom_gb
    for key, use in ctx.need_placement().gpus.items():
        gpu = infra.gpus[key]
        if use.consumers and gpu.vram_gb - headroom + 1e-9 < use.used_gb <= gpu.vram_gb + 1e-9:
            yield Problem(f"{infra.gpu_label(key)} keeps {fmt_gb(gpu.vram_gb - use.used_gb)} GB free, less than "
                          f"the {fmt_gb(headroom)} GB headroom: {names(by_name(infra, use.consumers))} use "
                          f"{fmt_gb(use.used_gb)} of {fmt_gb(gpu.vram_gb)} GB", gpu.path, at="key")
