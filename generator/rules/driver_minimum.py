"""An NVIDIA GPU's driver is older than the minimum for its architecture: the GPU is unavailable.

The minimum per architecture is the table in generator/hardware/nvidia.py (the
driver of the first CUDA toolkit that supports it). Below it the GPU cannot
run CUDA work, so psot treats it as `unavailable`: placement gives it
nothing and its workloads fall back to the other GPUs, as one would do by
hand (the GTX 970 beside an RTX 5070 Ti takes its work until the new card's
driver is installed).
The message names the GPUs of the same host that take over and the driver to
install (the recommended one where it is newer than the minimum). A GPU
without `driver`, or of an architecture the table does not know, is not
judged, nor is one passed through to a VM (detect found it on vfio-pci, or a
passthrough consumer is pinned to it): the VM runs its own driver and keeps
the GPU, whatever the host's driver is.

Fix::

    Install the driver the message names, or a newer one, on the host and set
    the GPU's `driver` to its version. Until then the other GPUs of the host take
    the workloads.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        gpus:
          rtx-5070-ti:
            vendor: nvidia
            model: GeForce RTX 5070 Ti
            vram_gb: 16
            architecture: blackwell
            driver: "575.57.08"
          rtx-3060: {vendor: nvidia, model: GeForce RTX 3060, vram_gb: 12, architecture: ampere, driver: "575.57.08"}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        gpus:
          rtx-5070-ti:
            vendor: nvidia
            model: GeForce RTX 5070 Ti
            vram_gb: 16
            architecture: blackwell
            driver: "550.144.03"
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, architecture: maxwell, driver: "550.144.03"}

Finding::

    infra.yml:12:17: warning[DRV001] pve/rtx-5070-ti (GeForce RTX 5070 Ti): driver 550.144.03 is older than 570.26, the minimum for Blackwell; the GPU is treated as unavailable and its workloads fall back to pve/gtx-970 (GeForce GTX 970). Install driver 575 or newer.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import driver_status
from generator.model.core import Gpu
from generator.rules.base import Context, Problem
from generator.rules.host_driver import fallback, gpu_name, passed_through

CODE = "DRV001"
SEVERITY = "warning"
STAGE = "model"


def judged_gpus(ctx: Context) -> Iterator[tuple[Gpu, driver_status.Assessment]]:
    """Every GPU the host's driver serves whose driver the tables can judge, in the order infra.yml
    lists them (DRV001, DRV002)."""
    exempt = passed_through(ctx)
    for host in ctx.infra.data.get("hosts") or {}:
        for gpu in ctx.infra.hosts[host].listed:
            if gpu.key in exempt:
                continue
            assessment = driver_status.assess(gpu.vendor, gpu.architecture, gpu.compute_capability, gpu.driver,
                                              gpu.pci_id)
            if assessment is not None:
                yield gpu, assessment


def driver_path(gpu: Gpu) -> tuple:
    return gpu.path + ("driver",)


def check(ctx: Context) -> Iterator[Problem]:
    exempt = passed_through(ctx)
    for gpu, found in judged_gpus(ctx):
        if found.status != "unavailable":
            continue
        yield Problem(f"{gpu_name(gpu)}: driver {gpu.driver} is older than {found.minimum}, {found.minimum_reason}; "
                      f"the GPU is treated as unavailable and {fallback(ctx, gpu, exempt)}. "
                      f"Install driver {found.recommended} or newer.", driver_path(gpu))
