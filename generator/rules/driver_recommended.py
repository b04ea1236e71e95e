"""An NVIDIA GPU's driver runs it but is older than the recommended one: the GPU is degraded.

An RTX 5070 Ti works on driver 570.86.16, suboptimal but workable, but
Blackwell wants the 575 branch. Between the minimum and the
recommended driver of its architecture (generator/hardware/nvidia.py) psot treats
the GPU as `degraded`: placement gives it a workload only when no `ok` GPU
fits (and says so, PLACE004). A GPU declared `status: unavailable` gets
nothing anyway and is not reported here; a driver below the minimum is
DRV001. A GPU passed through to a VM runs the VM's driver: not judged
(see DRV001).

Fix::

    Upgrade the driver to the recommended branch the message names and set the
    GPU's `driver` to its version; or accept the warning: a degraded GPU still
    serves when no other GPU fits.

Passing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      homelab:
        gpus:
          rtx-5070-ti:
            vendor: nvidia
            model: GeForce RTX 5070 Ti
            vram_gb: 16
            compute_capability: "12.0"
            driver: "575.57.08"

Failing::

    project_name: ai-lab
    global: {}
    domains: {}
    hosts:
      homelab:
        gpus:
          rtx-5070-ti:
            vendor: nvidia
            model: GeForce RTX 5070 Ti
            vram_gb: 16
            compute_capability: "12.0"
            driver: "570.86.16"

Finding::

    infra.yml:12:17: warning[DRV002] homelab/rtx-5070-ti (GeForce RTX 5070 Ti): driver 570.86.16 runs Blackwell (minimum 570.26), but below the recommended 575 the GPU is treated as degraded: it gets a workload only when no other GPU fits it. Upgrade to driver 575 or newer.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem
from generator.rules.driver_minimum import driver_path, judged_gpus
from generator.rules.host_driver import gpu_name

CODE = "DRV002"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for gpu, found in judged_gpus(ctx):
        if found.status != "degraded" or gpu.declared_status == "unavailable":
            continue
        yield Problem(f"{gpu_name(gpu)}: driver {gpu.driver} runs {found.architecture.display} "
                      f"(minimum {found.minimum}{f' for its {found.chip} chip' if found.chip else ''}), but below {found.recommended_phrase} the GPU is treated "
                      "as degraded: it gets a workload only when no other GPU fits it. "
                      f"Upgrade to driver {found.recommended} or newer.", driver_path(gpu))
