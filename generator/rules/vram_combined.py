"""The consumers placed on one GPU need more VRAM than it has: a warning, not an error.

One warning per GPU over capacity, listing everyone on it, also when that is
a single consumer too large for it (VRAM003 names that consumer too).

They may all run if they do not peak at the same time, or one of them may
fail to load its model: VRAM estimates are estimates, so psot warns but
allows. Consumers share a GPU when pins, `count` or the number of GPUs leave
placement no other choice.

Fix::

    Move a consumer to another GPU (a pin, or another strategy), lower the
    estimates that are too high, or give a `budget` to the consumers that can
    live with less.

Passing::

    project_name: lab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      ai-clip: {target: compose, host: ws, model: {name: CLIP ViT-L, vram_gb: 1.2}}
      ai-florence: {target: compose, host: ws, model: {name: Florence-2-Large, vram_gb: 1.5}}

Failing::

    project_name: lab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      ai-clip: {target: compose, host: ws, model: {name: CLIP ViT-L, vram_gb: 1.2}}
      ai-florence: {target: compose, host: ws, model: {name: Florence-2-Large, vram_gb: 1.5}}
      ai-whisper: {target: compose, host: ws, model: {name: whisper-large-v3, vram_gb: 3}}

Finding::

    infra.yml:7:7: warning[VRAM002] Combined VRAM (~5.7 GB) exceeds GPU 1 (ws/rtx-a400) capacity (4 GB): ai-clip, ai-florence, ai-whisper
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.placement.core import fmt_gb
from generator.rules.base import Context, Problem, by_name, names

CODE = "VRAM002"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    for key, use in ctx.need_placement().gpus.items():
        gpu = infra.gpus[key]
        if use.consumers and use.used_gb > gpu.vram_gb + 1e-9:
            yield Problem(f"Combined VRAM (~{fmt_gb(use.used_gb)} GB) exceeds {infra.gpu_label(key)} capacity "
                          f"({fmt_gb(gpu.vram_gb)} GB): {names(by_name(infra, use.consumers))}",
                          gpu.path, at="key")
