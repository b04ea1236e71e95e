"""A GPU passed through to a Proxmox VM has a `pci_id`, so the host can bind it to vfio-pci at boot.

A cluster PCI mapping (proxmox/mapping/pci.cfg) requires the GPU's
vendor:device ID, and the Proxmox host claims a passed-through GPU for
vfio-pci by it when no kept device shares it (`options vfio-pci ids=...`
in modprobe.d). Without it the GPU is left out of the mappings, so
`hostpciN` names it by its address (root@pam only), and the host binds it
by address (`driver_override`) instead.
`lspci -nn -s <pci>` prints the ID in brackets, e.g. `[10de:2c05]`.

Fix::

    Add the GPU's `pci_id` as `lspci -nn` prints it in brackets (e.g.
    `10de:2c05`); `psot detect` writes it for you.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2c05"}
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
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0"}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100}

Finding::

    infra.yml:9:7: warning[PASS004] pve/rtx-5070-ti is passed through to gaming but has no `pci_id`: it is left out of the PCI mappings, so hostpci names its address (root@pam only); add hosts.pve.gpus.rtx-5070-ti.pci_id as `lspci -nn -s 0000:01:00.0` prints it (e.g. 10de:2c05)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms import proxmox
from generator.rules.base import Context, Problem

CODE = "PASS004"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    gpus = ctx.infra.gpus
    for consumer in ctx.consumers():
        if consumer.target != proxmox.NAME or not consumer.request.passthrough:
            continue
        for key in ctx.gpus_of(consumer):
            gpu = gpus[key]
            if gpu.pci_id is None:
                example = gpu.pci or "0000:01:00.0"
                yield Problem(f"{key} is passed through to {consumer.name} but has no `pci_id`: it is left out of "
                              f"the PCI mappings, so hostpci names its address (root@pam only); add hosts.{gpu.host}.gpus.{gpu.name}.pci_id "
                              f"as `lspci -nn -s {example}` prints it (e.g. 10de:2c05)", gpu.path, at="key")
