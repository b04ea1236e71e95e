"""A consumer's `gpu.cuda` needs a newer NVIDIA driver than a GPU's host runs: that GPU is not eligible for it.

`gpu.cuda` is the CUDA version the consumer's image is built for. Every CUDA
release needs a minimum driver on the host (NVIDIA's CUDA release notes,
Table 3: 12.8 needs 570.26, 13.0 needs 580.65.06; the table is in
generator/hardware/nvidia.py); on an older driver the image fails with
"CUDA driver version is insufficient for CUDA runtime version". Placement
leaves such a GPU out for the consumer, which goes to another GPU that runs
its CUDA release, or gets none (PLACE002). A GPU without `driver` is not
judged, nor is the driver for a consumer the GPU is passed through to: a VM
runs its own.

Fix::

    Upgrade the host's driver to the version the message names and set the
    GPUs' `driver` to it; or use an image built for the older CUDA release
    the message names, which the installed driver runs, and change `gpu.cuda`.

Passing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, model: GeForce RTX 4090, vram_gb: 24, index: 0, architecture: ada, driver: "560.35.03"}
    workloads:
      vllm: {target: compose, host: ws, gpu: {vram_gb: 20, cuda: "12.6"}}

Failing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, model: GeForce RTX 4090, vram_gb: 24, index: 0, architecture: ada, driver: "560.35.03"}
    workloads:
      vllm: {target: compose, host: ws, gpu: {vram_gb: 20, cuda: "12.8"}}

Finding::

    infra.yml:10:62: warning[DRV007] vllm: CUDA 12.8 needs NVIDIA driver 570.26 or newer, and ws/rtx-4090 (GeForce RTX 4090) runs 560.35.03: it is not eligible for vllm. Upgrade the host's driver to 570.26 or newer, or use an image built for CUDA 12.6, the newest release driver 560.35.03 runs
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import cuda, tables
from generator.placement.eligibility import excluded_by_cuda
from generator.rules.base import Context, Problem
from generator.rules.host_driver import gpu_name

CODE = "DRV007"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for consumer in ctx.consumers():
        release = tables.cuda(consumer.request.cuda) if consumer.request.cuda else None
        if release is None:
            continue
        gpus = excluded_by_cuda(consumer, ctx.infra, cuda.DRIVER)
        if not gpus:
            continue
        runs = ", ".join(f"{gpu_name(gpu)} runs {gpu.driver}" for gpu in gpus)
        oldest = min((str(gpu.driver) for gpu in gpus), key=tables.version)
        older = cuda.newest_for_driver(oldest)
        instead = (f"use an image built for CUDA {older.version}, the newest release driver {oldest} runs" if older
                   else f"no CUDA release psot knows runs on driver {oldest}")
        them = "it is" if len(gpus) == 1 else "they are"
        pinned = next((gpu for gpu in gpus if gpu.key == consumer.request.pin_gpu), None)
        pin = f" Its pin to {pinned.key} still wins, but the image will not run there." if pinned else ""
        yield Problem(f"{consumer.name}: CUDA {release.version} needs NVIDIA driver {release.minimum_driver} or "
                      f"newer, and {runs}: {them} not eligible for {consumer.name}.{pin} Upgrade the host's "
                      f"driver to {release.minimum_driver} or newer, or {instead}",
                      consumer.request.path + ("cuda",))
