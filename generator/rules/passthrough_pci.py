"""A GPU passed through to a VM has a `pci` address.

vfio-pci binds, and Proxmox's `hostpciN` and Incus's `pci` name, the device
by its PCI address: without it nothing can be rendered.

Fix::

    Add the GPU's `pci` address as `lspci -D` prints it (e.g. `0000:01:00.0`);
    `psot detect` writes it for you.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0"}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100}

Finding::

    infra.yml:9:7: error[PASS003] pve/rtx-5070-ti is passed through to gaming but has no `pci` address; add hosts.pve.gpus.rtx-5070-ti.pci as `lspci -D` prints it (e.g. 0000:01:00.0)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "PASS003"
SEVERITY = "error"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    gpus = ctx.infra.gpus
    for consumer in ctx.consumers():
        if not consumer.request.passthrough:
            continue
        for key in ctx.gpus_of(consumer):
            gpu = gpus[key]
            if gpu.pci is None:
                yield Problem(f"{key} is passed through to {consumer.name} but has no `pci` address; add "
                              f"hosts.{gpu.host}.gpus.{gpu.name}.pci as `lspci -D` prints it (e.g. 0000:01:00.0)",
                              gpu.path, at="key")
