"""A consumer is pinned to a GPU of another vendor than its request's `vendor`.

A pin wins in every strategy, so placement would hand the consumer a GPU
its software cannot drive (a CUDA image on an AMD card; Kubernetes device
plugins are vendor-specific too). The finding points at the `pin`, not at
`vendor`: the vendor says what the software needs, a fact about the
workload; the pin is the hardware choice checked against it, and the one
that is usually wrong (the neighbouring card of a heterogeneous homelab).
When the pin comes from an Incus device's `pci` address, there is no `pin`
to point at, and the finding is on `vendor`.

Fix::

    Pin the consumer to a GPU of the vendor it asks for, or change `gpu.vendor`
    when its software does run on the pinned card.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      khelben:
        platform: kubernetes
        gpus:
          strix-halo: {vendor: amd, model: Radeon 8060S (Strix Halo), vram_gb: 64}
      elminster:
        platform: kubernetes
        gpus:
          rtx-2070: {vendor: nvidia, model: GeForce RTX 2070, vram_gb: 8, compute_capability: "7.5"}
    workloads:
      whisper: {target: kubernetes, gpu: {vendor: nvidia, pin: rtx-2070}}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      khelben:
        platform: kubernetes
        gpus:
          strix-halo: {vendor: amd, model: Radeon 8060S (Strix Halo), vram_gb: 64}
      elminster:
        platform: kubernetes
        gpus:
          rtx-2070: {vendor: nvidia, model: GeForce RTX 2070, vram_gb: 8, compute_capability: "7.5"}
    workloads:
      whisper: {target: kubernetes, gpu: {vendor: nvidia, pin: strix-halo}}

Finding::

    infra.yml:14:60: error[FIT001] whisper is pinned to khelben/strix-halo, an amd GPU, but asks for vendor nvidia; pin an nvidia GPU or change gpu.vendor
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, pin_path

CODE = "FIT001"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for consumer in ctx.consumers():
        request = consumer.request
        if request.pin_gpu is None or request.vendor == "any":
            continue
        gpu = ctx.infra.gpus[request.pin_gpu]
        if gpu.vendor != request.vendor:
            yield Problem(f"{consumer.name} is pinned to {gpu.key}, an {gpu.vendor} GPU, but asks for vendor "
                          f"{request.vendor}; pin an {request.vendor} GPU or change gpu.vendor",
                          pin_path(consumer, "vendor"))
