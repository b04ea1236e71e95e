"""A consumer's `gpu.cuda` no longer supports a GPU's compute capability: that GPU is not eligible for it.

Each CUDA release builds for compute capabilities from some lowest one on
(generator/hardware/nvidia.py, from NVIDIA's release notes): CUDA 12 dropped
Kepler (3.5, 3.7), CUDA 13.0 dropped Maxwell, Pascal and Volta (below 7.5),
so an image built for CUDA 13 has no kernels for a GTX 970 (5.2). No driver
upgrade changes that. Placement leaves such a GPU out for the consumer,
which goes to another GPU that runs its CUDA release, or gets none
(PLACE002). The compute capability is the GPU's `compute_capability`, else
the highest of its `architecture`; a GPU with neither is not judged. It
applies to a VM the GPU is passed through to as well.

Fix::

    Use an image built for the older CUDA release the message names (the last
    one for that compute capability) and change `gpu.cuda`; or give the
    consumer a GPU of the compute capability the message names.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        gpus:
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 0, compute_capability: "5.2"}
    workloads:
      plex: {target: compose, host: homelab, gpu: {vram_gb: 1, cuda: "12.9"}}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        gpus:
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 0, compute_capability: "5.2"}
    workloads:
      plex: {target: compose, host: homelab, gpu: {vram_gb: 1, cuda: "13.0"}}

Finding::

    infra.yml:10:66: warning[DRV008] plex: CUDA 13.0 supports compute capability 7.5 and newer, and homelab/gtx-970 (GeForce GTX 970) has compute capability 5.2: it is not eligible for plex. Either use an image built for CUDA 12.9, the last release for compute capability 5.2, or give plex a GPU of compute capability 7.5 or newer
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import cuda, driver_status, tables
from generator.model.core import Gpu
from generator.placement.eligibility import excluded_by_cuda
from generator.rules.base import Context, Problem
from generator.rules.host_driver import gpu_name

CODE = "DRV008"
SEVERITY = "warning"
STAGE = "model"


def _capability(gpu: Gpu) -> str:
    """`compute capability 5.2`, or `Maxwell, compute capability 5.3 at most` from its architecture."""
    if gpu.compute_capability:
        return f"compute capability {gpu.compute_capability}"
    row = driver_status.architecture_of(gpu.vendor, gpu.architecture, None)
    found = cuda.compute_capability(gpu.vendor, gpu.architecture, None)
    return f"{row.display if row else gpu.architecture}, compute capability {found} at most"


def check(ctx: Context) -> Iterator[Problem]:
    for consumer in ctx.consumers():
        release = tables.cuda(consumer.request.cuda) if consumer.request.cuda else None
        if release is None:
            continue
        gpus = excluded_by_cuda(consumer, ctx.infra, cuda.COMPUTE_CAPABILITY)
        if not gpus:
            continue
        has = ", ".join(f"{gpu_name(gpu)} has {_capability(gpu)}" for gpu in gpus)
        lowest = min((str(cuda.compute_capability(g.vendor, g.architecture, g.compute_capability)) for g in gpus),
                     key=tables.version)
        last = cuda.last_for_compute_capability(lowest)
        older = (f"use an image built for CUDA {last.version}, the last release for compute capability {lowest}"
                 if last else f"no CUDA release psot knows builds for compute capability {lowest}")
        wanted = "{}.{}".format(*release.lowest_compute_capability)
        them = "it is" if len(gpus) == 1 else "they are"
        pinned = next((gpu for gpu in gpus if gpu.key == consumer.request.pin_gpu), None)
        pin = f" Its pin to {pinned.key} still wins, but the image will not run there." if pinned else ""
        yield Problem(f"{consumer.name}: CUDA {release.version} supports compute capability {wanted} and newer, "
                      f"and {has}: {them} not eligible for {consumer.name}.{pin} Either {older}, or give "
                      f"{consumer.name} a GPU of compute capability {wanted} or newer",
                      consumer.request.path + ("cuda",))
