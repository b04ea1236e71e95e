"""The NVIDIA GPUs a host drives need different kernel-module flavours, open and proprietary: no driver runs them all.

NVIDIA's driver comes in two flavours of `nvidia.ko`: the open kernel
modules, which need the GPU System Processor of Turing and later and are the
only ones that drive Blackwell (and Grace Hopper), and the proprietary ones,
which drive Maxwell, Pascal and Volta (and the legacy Kepler and Fermi
branches) and not Blackwell. A host loads one flavour, so a Blackwell card
and a Maxwell card cannot both run on its driver: one of them fails to
initialise when the machine boots. Turing, Ampere, Ada and Hopper run on
either flavour and never conflict. The rule counts the GPUs the host's
driver serves: not one passed through to a VM (bound to vfio-pci, it runs the
guest's driver), nor one that is unavailable anyway (declared so, or its
driver too old or too new for it, DRV001, DRV005). A host that states its
flavour (`nvidia: {kernel_modules: open}`) is not reported: the GPUs that
flavour cannot drive are unavailable instead (DRV004).

Fix::

    Pass one of the cards through to a VM (a Proxmox or Incus VM with
    `gpu.passthrough`, pinned to it), which runs its own driver; or take one out
    of the host's inventory (move it to another machine); or state the flavour
    the host runs, `hosts.<host>.nvidia.kernel_modules: open` (or
    `proprietary`), and accept that the GPUs it cannot drive are unavailable.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        cpu_vendor: intel
        gpus:
          rtx-5070-ti:
            vendor: nvidia
            model: GeForce RTX 5070 Ti
            vram_gb: 16
            index: 0
            pci: "0000:01:00.0"
            pci_id: "10de:2c05"
            architecture: blackwell
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 1, pci: "0000:02:00.0", architecture: maxwell}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, gpu: {pin: rtx-5070-ti, vram_gb: 12}}
      plex: {target: compose, host: pve, gpu: {vram_gb: 1}}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      homelab:
        platform: docker
        gpus:
          rtx-5070-ti: {vendor: nvidia, model: GeForce RTX 5070 Ti, vram_gb: 16, index: 0, architecture: blackwell}
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 1, architecture: maxwell}
    workloads:
      ollama: {target: compose, host: homelab, gpu: {vram_gb: 9.5}}
      plex: {target: compose, host: homelab, gpu: {vram_gb: 1}}

Finding::

    infra.yml:7:5: error[DRV003] host 'homelab' drives NVIDIA GPUs that no one kernel-module flavour runs: homelab/rtx-5070-ti (GeForce RTX 5070 Ti) needs the open modules (Blackwell), homelab/gtx-970 (GeForce GTX 970) needs the proprietary modules (Maxwell); a host loads one nvidia.ko. Pass one card through to a VM (gpu.passthrough), which runs its own driver, or take it out of the inventory; or set hosts.homelab.nvidia.kernel_modules to the flavour the host runs, and the GPUs it cannot drive become unavailable
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import driver_status
from generator.rules.base import Context, Problem
from generator.rules.host_driver import gpu_name, host_nvidia_gpus, passed_through

CODE = "DRV003"
SEVERITY = "error"
STAGE = "placement"

FLAVOURS = ("open", "proprietary")


def check(ctx: Context) -> Iterator[Problem]:
    exempt = passed_through(ctx)
    for name in ctx.infra.data.get("hosts") or {}:
        host = ctx.infra.hosts[name]
        if host.nvidia_kernel_modules is not None:
            continue   # the host's choice: DRV004 reports what it cannot drive
        common = set(FLAVOURS)
        needs = []
        for gpu in host_nvidia_gpus(ctx, name, exempt):
            row = driver_status.architecture_of(gpu.vendor, gpu.architecture, gpu.compute_capability)
            if gpu.status == "unavailable" or row is None or not driver_status.flavours(row):
                continue
            common &= set(driver_status.flavours(row))
            if len(driver_status.flavours(row)) == 1:
                needs.append(f"{gpu_name(gpu)} needs the {row.kernel_modules[0]} modules ({row.display})")
        if common:
            continue
        yield Problem(f"host '{name}' drives NVIDIA GPUs that no one kernel-module flavour runs: "
                      f"{', '.join(needs)}; a host loads one nvidia.ko. Pass one card through to a VM "
                      "(gpu.passthrough), which runs its own driver, or take it out of the inventory; or set "
                      f"hosts.{name}.nvidia.kernel_modules to the flavour the host runs, and the GPUs it "
                      "cannot drive become unavailable", host.path + ("gpus",), at="key")
