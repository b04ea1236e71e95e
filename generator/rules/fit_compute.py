"""A consumer is pinned to a GPU whose compute capability is below its `min_compute_capability`.

Capabilities compare as versions, number by number: "12.0" (Blackwell) is
above "8.6". A pinned GPU that declares no `compute_capability`
cannot prove it meets the minimum, and placement would not choose it
either; the finding is then on the GPU and says to add the value (an
NVIDIA GPU), or on the `pin` when the GPU is an AMD or Intel one, which
has no CUDA compute capability at all. Otherwise it points at the `pin`,
for the reason FIT001 gives: the minimum describes the software, the pin
is the hardware choice checked against it. A pin to a GPU of the wrong
vendor is FIT001's alone.

Fix::

    Pin a GPU with at least that compute capability, or lower
    `gpu.min_compute_capability` when the software supports older GPUs. When the
    pinned NVIDIA GPU declares no `compute_capability`, add it.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        gpus:
          rtx-3090: {vendor: nvidia, vram_gb: 24, index: 0, compute_capability: "8.6"}
          gtx-970: {vendor: nvidia, vram_gb: 4, index: 1, compute_capability: "5.2"}
    workloads:
      ollama: {target: compose, host: pve, gpu: {min_compute_capability: "8.0", pin: rtx-3090}}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        gpus:
          rtx-3090: {vendor: nvidia, vram_gb: 24, index: 0, compute_capability: "8.6"}
          gtx-970: {vendor: nvidia, vram_gb: 4, index: 1, compute_capability: "5.2"}
    workloads:
      ollama: {target: compose, host: pve, gpu: {min_compute_capability: "8.0", pin: gtx-970}}

Finding::

    infra.yml:10:82: error[FIT002] ollama is pinned to pve/gtx-970, compute capability 5.2, but asks for min_compute_capability 8.0; pin a GPU with 8.0 or newer, or lower gpu.min_compute_capability
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware.tables import version
from generator.rules.base import Context, Problem, pin_path

CODE = "FIT002"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for consumer in ctx.consumers():
        request = consumer.request
        wanted = request.min_compute_capability
        if request.pin_gpu is None or wanted is None:
            continue
        gpu = ctx.infra.gpus[request.pin_gpu]
        if request.vendor not in ("any", gpu.vendor):
            continue  # FIT001: the vendor is wrong, its capability is beside the point
        if gpu.compute_capability is None and gpu.vendor == "nvidia":
            yield Problem(f"{consumer.name} is pinned to {gpu.key}, which declares no compute_capability, so "
                          f"min_compute_capability {wanted} cannot be checked; add compute_capability to "
                          f"hosts.{gpu.host}.gpus.{gpu.name} (nvidia-smi --query-gpu=compute_cap --format=csv)",
                          gpu.path, at="key")
        elif gpu.compute_capability is None:
            yield Problem(f"{consumer.name} is pinned to {gpu.key}, an {gpu.vendor} GPU without a CUDA compute "
                          f"capability, but asks for min_compute_capability {wanted}; pin an nvidia GPU or "
                          "remove gpu.min_compute_capability", pin_path(consumer, "min_compute_capability"))
        elif version(gpu.compute_capability) < version(wanted):
            yield Problem(f"{consumer.name} is pinned to {gpu.key}, compute capability {gpu.compute_capability}, "
                          f"but asks for min_compute_capability {wanted}; pin a GPU with {wanted} or newer, "
                          "or lower gpu.min_compute_capability", pin_path(consumer, "min_compute_capability"))
