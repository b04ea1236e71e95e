"""A host states the open NVIDIA kernel modules but its driver predates them: the inventory contradicts itself.

NVIDIA published the open GPU kernel modules with release R515 (515.43.04);
R470 and older ship only the proprietary flavour. A host whose
`nvidia.kernel_modules` is `open` while its GPUs report an older driver cannot
be what infra.yml says: either the flavour or the driver versions are wrong,
and every rule on the host's driver stack (DRV001-DRV009) would judge a
machine that does not exist. Sources: NVIDIA's open-gpu-kernel-modules
repository, whose first release tag is 515.43.04
(https://github.com/NVIDIA/open-gpu-kernel-modules/releases), and the NVIDIA
Technical Blog, "NVIDIA Releases Open-Source GPU Kernel Modules" (May 2022,
R515). GPUs passed through to a VM run the guest's driver and are not judged.

Fix::

    Run psot detect on the host (it reads the flavour from
    /proc/driver/nvidia/version and the driver from nvidia-smi), or set
    `nvidia.kernel_modules: proprietary`, or set the GPUs' `driver` to the
    version the host runs.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        nvidia: {kernel_modules: open}
        gpus:
          rtx-2080: {vendor: nvidia, model: GeForce RTX 2080, vram_gb: 8, index: 0, architecture: turing, driver: "535.183.01"}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        nvidia: {kernel_modules: open}
        gpus:
          rtx-2080: {vendor: nvidia, model: GeForce RTX 2080, vram_gb: 8, index: 0, architecture: turing, driver: "470.256.02"}

Finding::

    infra.yml:7:30: error[DRV010] host 'homelab' states the open NVIDIA kernel modules (nvidia.kernel_modules), but its GPUs report driver 470.256.02 (rtx-2080), older than 515.43.04, the first release with the open modules; set kernel_modules: proprietary, or the GPUs' driver to the version the host runs (psot detect reads both)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import nvidia, tables
from generator.rules.base import Context, Problem
from generator.rules.host_driver import host_nvidia_gpus, passed_through

CODE = "DRV010"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    exempt = passed_through(ctx)
    first = nvidia.OPEN_MODULES_FIRST_DRIVER
    for name in ctx.infra.data.get("hosts") or {}:
        host = ctx.infra.hosts[name]
        if host.nvidia_kernel_modules != "open":
            continue
        older: dict[str, list[str]] = {}
        for gpu in host_nvidia_gpus(ctx, name, exempt):
            if gpu.driver and tables.version(gpu.driver) < tables.version(first):
                older.setdefault(gpu.driver, []).append(gpu.name)
        if not older:
            continue
        reported = ", ".join(f"{driver} ({', '.join(gpus)})" for driver, gpus in sorted(older.items()))
        yield Problem(f"host '{name}' states the open NVIDIA kernel modules (nvidia.kernel_modules), but its GPUs "
                      f"report driver {reported}, older than {first}, the first release with the open modules; "
                      "set kernel_modules: proprietary, or the GPUs' driver to the version the host runs "
                      "(psot detect reads both)", host.path + ("nvidia", "kernel_modules"))
