"""The kernel-module flavour a host states cannot drive one of its NVIDIA GPUs: the GPU is unavailable.

`hosts.<host>.nvidia.kernel_modules` says which flavour of NVIDIA's driver the
host runs: `open` (Turing and later; the only one for Blackwell) or
`proprietary` (up to Ada and Hopper; the only one for Maxwell, Pascal and
Volta). A GPU that flavour cannot drive does not work on the host, so psot
treats it as unavailable to the consumers on the host's driver: they fall
back to the host's other GPUs, as they would by hand. A VM it is passed
through to runs its own driver and may still have it; such a GPU (on
vfio-pci, or given to a passthrough consumer) is not reported. Stating the
flavour is also how a host with cards of both kinds (DRV003) says which
ones it runs.

Fix::

    Pass the GPU through to a VM (`gpu.passthrough`), which runs its own driver;
    or take it out of the host's inventory; or run the other flavour and change
    `nvidia.kernel_modules`, if every GPU the host drives supports it.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        nvidia: {kernel_modules: open}
        gpus:
          rtx-5070-ti: {vendor: nvidia, model: GeForce RTX 5070 Ti, vram_gb: 16, index: 0, architecture: blackwell}
          rtx-3060: {vendor: nvidia, model: GeForce RTX 3060, vram_gb: 12, index: 1, architecture: ampere}
    workloads:
      ollama: {target: compose, host: homelab, gpu: {vram_gb: 9.5}}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        nvidia: {kernel_modules: open}
        gpus:
          rtx-5070-ti: {vendor: nvidia, model: GeForce RTX 5070 Ti, vram_gb: 16, index: 0, architecture: blackwell}
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 1, architecture: maxwell}
    workloads:
      ollama: {target: compose, host: homelab, gpu: {vram_gb: 9.5}}

Finding::

    infra.yml:10:7: warning[DRV004] homelab/gtx-970 (GeForce GTX 970): host 'homelab' runs the open NVIDIA kernel modules (nvidia.kernel_modules), which cannot drive Maxwell (it needs the proprietary ones); the GPU is treated as unavailable and its workloads fall back to homelab/rtx-5070-ti (GeForce RTX 5070 Ti). Pass it through to a VM, which runs its own driver, or take it out of the inventory
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import driver_status
from generator.rules.base import Context, Problem
from generator.rules.host_driver import fallback, gpu_name, host_nvidia_gpus, passed_through

CODE = "DRV004"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    exempt = passed_through(ctx)
    for name in ctx.infra.data.get("hosts") or {}:
        chosen = ctx.infra.hosts[name].nvidia_kernel_modules
        if chosen is None:
            continue
        for gpu in host_nvidia_gpus(ctx, name, exempt):
            row = driver_status.architecture_of(gpu.vendor, gpu.architecture, gpu.compute_capability)
            if gpu.declared_status == "unavailable" or row is None or not driver_status.flavours(row) \
                    or chosen in driver_status.flavours(row):
                continue
            needs = " or ".join(driver_status.flavours(row))
            yield Problem(f"{gpu_name(gpu)}: host '{name}' runs the {chosen} NVIDIA kernel modules "
                          f"(nvidia.kernel_modules), which cannot drive {row.display} (it needs the {needs} "
                          f"ones); the GPU is treated as unavailable and {fallback(ctx, gpu, exempt)}. Pass it "
                          "through to a VM, which runs its own driver, or take it out of the inventory",
                          gpu.path, at="key")
