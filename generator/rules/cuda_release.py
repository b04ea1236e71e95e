"""A consumer's `gpu.cuda` is not a CUDA release psot knows: what it needs is not checked.

psot knows the CUDA releases of NVIDIA's release notes from 7.0 on
(generator/hardware/nvidia.py): for each, the minimum driver (DRV007) and the
oldest compute capability it builds for (DRV008). A version outside that
table (a typo such as 12.7, which NVIDIA never released, or a release newer
than psot) cannot be judged: the consumer still gets NVIDIA GPUs only, as
CUDA runs on nothing else, but neither its driver nor its compute capability
is checked. The message lists the releases psot knows.

Fix::

    Write the CUDA version the image is built for (`nvcc --version` in it, or
    the CUDA version in its tag, e.g. 12.8 for `cuda:12.8.1-runtime`); if it is a
    release newer than psot, upgrade psot.

Passing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, model: GeForce RTX 4090, vram_gb: 24, index: 0, architecture: ada, driver: "575.64.03"}
    workloads:
      vllm: {target: compose, host: ws, gpu: {vram_gb: 20, cuda: "12.8"}}

Failing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, model: GeForce RTX 4090, vram_gb: 24, index: 0, architecture: ada, driver: "575.64.03"}
    workloads:
      vllm: {target: compose, host: ws, gpu: {vram_gb: 20, cuda: "12.7"}}

Finding::

    infra.yml:10:62: warning[DRV009] vllm: gpu.cuda 12.7 is not a CUDA release psot knows, so neither the driver it needs nor the compute capabilities it supports are checked (only NVIDIA GPUs are eligible). The releases psot knows: 7.0, 7.5, 8.0, 9.0, 9.1, 9.2, 10.0, 10.1, 10.2, 11.0, 11.1, 11.2, 11.3, 11.4, 11.5, 11.6, 11.7, 11.8, 12.0, 12.1, 12.2, 12.3, 12.4, 12.5, 12.6, 12.8, 12.9, 13.0, 13.1, 13.2
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import tables
from generator.rules.base import Context, Problem

CODE = "DRV009"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for consumer in ctx.consumers():
        wanted = consumer.request.cuda
        if wanted is None or tables.cuda(wanted) is not None:
            continue
        known = ", ".join(row.version for row in tables.CUDA_RELEASES)
        yield Problem(f"{consumer.name}: gpu.cuda {wanted} is not a CUDA release psot knows, so neither the "
                      "driver it needs nor the compute capabilities it supports are checked (only NVIDIA GPUs "
                      f"are eligible). The releases psot knows: {known}", consumer.request.path + ("cuda",))
