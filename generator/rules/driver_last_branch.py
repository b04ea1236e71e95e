"""An NVIDIA GPU's driver is newer than the last branch that supports its architecture: the GPU is unavailable.

NVIDIA ends support for an architecture with a last driver branch: R580 for
Maxwell, Pascal and Volta, R470 for Kepler, R390 for Fermi
(generator/hardware/nvidia.py, with its sources). A newer driver does not
drive the GPU at all, so psot treats it as unavailable to the consumers on
the host's driver: they fall back to the host's other GPUs. A GPU passed
through to a VM (detect found it on vfio-pci, or a passthrough consumer is
pinned to it) runs the VM's driver and is not judged.

Fix::

    Install a driver of the branch the message names (580.x for a GTX 970)
    on the host and set the GPU's `driver` to its version; or pass the GPU
    through to a VM that runs such a driver; or retire the card.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        gpus:
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 0, architecture: maxwell, driver: "580.95.05"}
          rtx-3060: {vendor: nvidia, model: GeForce RTX 3060, vram_gb: 12, index: 1, architecture: ampere, driver: "580.95.05"}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        gpus:
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 0, architecture: maxwell, driver: "590.44.01"}
          rtx-3060: {vendor: nvidia, model: GeForce RTX 3060, vram_gb: 12, index: 1, architecture: ampere, driver: "590.44.01"}

Finding::

    infra.yml:8:110: warning[DRV005] homelab/gtx-970 (GeForce GTX 970): driver 590.44.01 is newer than the R580 branch, the last that supports Maxwell; the GPU is treated as unavailable and its workloads fall back to homelab/rtx-3060 (GeForce RTX 3060). Install a 580.x driver on the host, or pass the GPU through to a VM that runs one
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import driver_status
from generator.rules.base import Context, Problem
from generator.rules.driver_minimum import driver_path
from generator.rules.host_driver import fallback, gpu_name, passed_through

CODE = "DRV005"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    exempt = passed_through(ctx)
    for name in ctx.infra.data.get("hosts") or {}:
        for gpu in ctx.infra.hosts[name].listed:
            row = driver_status.architecture_of(gpu.vendor, gpu.architecture, gpu.compute_capability)
            if gpu.key in exempt or row is None or not driver_status.beyond_last_branch(row, gpu.driver):
                continue
            branch = row.last_driver_branch
            yield Problem(f"{gpu_name(gpu)}: driver {gpu.driver} is newer than the R{branch} branch, the last "
                          f"that supports {row.display}; the GPU is treated as unavailable and "
                          f"{fallback(ctx, gpu, exempt)}. Install a {branch}.x driver on the host, or pass the "
                          "GPU through to a VM that runs one", driver_path(gpu))
