"""The PCI mapping of a GPU a Proxmox VM uses through `mapping=` carries its `iommugroup` and `subsystem-id`.

When a VM whose `hostpciN` is `mapping=<id>` starts, Proxmox compares the
mapping's `id`, `iommugroup` and `subsystem-id` with the device and refuses
to start it when the mapping lacks one the device has: "PCI device mapping
invalid (hardware probably changed): missing expected property"
(pve-guest-common `src/PVE/Mapping/PCI.pm` `assert_valid`, called by
qemu-server `parse_hostpci`). psot writes them from the GPU's
`iommu_group` and `subsystem_id`; without them the mapping needs them added
in the GUI (Datacenter → Resource Mappings) before the VM starts, or
`global.proxmox.hostpci: address`.

Fix::

    Run `psot detect` on the host (it reads both from lspci and
    /sys/kernel/iommu_groups), or set the GPU's `iommu_group` and
    `subsystem_id` (`lspci -nn -v -s <pci>`: "Subsystem: ... [1043:8a15]",
    "IOMMU group 13").

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2c05", iommu_group: 13,
                        subsystem_id: "1043:8a15"}
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
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2c05"}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100}

Finding::

    infra.yml:9:7: warning[PVE005] the PCI mapping of pve/rtx-5070-ti has no iommugroup (iommu_group) and no subsystem-id (subsystem_id): Proxmox refuses to start gaming through mapping= until the mapping has what the device has ('missing expected property'); run `psot detect` on pve or set hosts.pve.gpus.rtx-5070-ti.iommu_group and subsystem_id
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model import passthrough
from generator.model import proxmox as pve
from generator.platforms import proxmox
from generator.rules.base import Context, Problem

CODE = "PVE005"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    if pve.hostpci_mode(ctx.infra.data) != pve.MAPPING:
        return
    seen = set()
    for consumer in ctx.consumers():
        if consumer.target != proxmox.NAME or not consumer.request.passthrough:
            continue
        for key in ctx.gpus_of(consumer):
            gpu = ctx.infra.gpus[key]
            if key in seen or gpu.pci_id is None:     # no pci_id: no mapping, hostpci names the address (PASS004)
                continue
            seen.add(key)
            missing = []
            if passthrough.group_of(ctx.infra.hosts[gpu.host], gpu) is None:
                missing.append(("iommugroup", "iommu_group"))
            if gpu.subsystem_id is None:
                missing.append(("subsystem-id", "subsystem_id"))
            if not missing:
                continue
            props = " and ".join(f"no {p} ({field})" for p, field in missing)
            fields = " and ".join(field for _, field in missing)
            yield Problem(f"the PCI mapping of {key} has {props}: Proxmox refuses to start {consumer.name} through "
                          f"mapping= until the mapping has what the device has ('missing expected property'); run "
                          f"`psot detect` on {gpu.host} or set hosts.{gpu.host}.gpus.{gpu.name}.{fields}",
                          gpu.path, at="key")
