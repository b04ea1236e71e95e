"""A Proxmox VM gets at most 16 passed-through devices: qm.conf has hostpci0 to hostpci15.

Proxmox VE numbers a VM's PCI passthrough devices `hostpci0` to `hostpci15`
(qemu-server's PCI module, `MAX_HOSTPCI_DEVICES`); a VM that psot gives more
GPUs than that cannot be written. The limit is checked on what placement
gave the VM, so `count: all` on a host with more GPUs is caught too.

Fix::

    Give the VM at most 16 GPUs: lower `gpu.count`, or split the work over two
    VMs.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          a: {vendor: nvidia, vram_gb: 24, pci: "0000:01:00.0"}
          b: {vendor: nvidia, vram_gb: 24, pci: "0000:02:00.0"}
    workloads:
      train: {target: proxmox, host: pve, vmid: 100, gpu: {count: all}}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          g01: {vendor: nvidia, vram_gb: 24, pci: "0000:01:00.0"}
          g02: {vendor: nvidia, vram_gb: 24, pci: "0000:02:00.0"}
          g03: {vendor: nvidia, vram_gb: 24, pci: "0000:03:00.0"}
          g04: {vendor: nvidia, vram_gb: 24, pci: "0000:04:00.0"}
          g05: {vendor: nvidia, vram_gb: 24, pci: "0000:05:00.0"}
          g06: {vendor: nvidia, vram_gb: 24, pci: "0000:06:00.0"}
          g07: {vendor: nvidia, vram_gb: 24, pci: "0000:07:00.0"}
          g08: {vendor: nvidia, vram_gb: 24, pci: "0000:08:00.0"}
          g09: {vendor: nvidia, vram_gb: 24, pci: "0000:09:00.0"}
          g10: {vendor: nvidia, vram_gb: 24, pci: "0000:0a:00.0"}
          g11: {vendor: nvidia, vram_gb: 24, pci: "0000:0b:00.0"}
          g12: {vendor: nvidia, vram_gb: 24, pci: "0000:0c:00.0"}
          g13: {vendor: nvidia, vram_gb: 24, pci: "0000:0d:00.0"}
          g14: {vendor: nvidia, vram_gb: 24, pci: "0000:0e:00.0"}
          g15: {vendor: nvidia, vram_gb: 24, pci: "0000:0f:00.0"}
          g16: {vendor: nvidia, vram_gb: 24, pci: "0000:10:00.0"}
          g17: {vendor: nvidia, vram_gb: 24, pci: "0000:11:00.0"}
    workloads:
      train: {target: proxmox, host: pve, vmid: 100, gpu: {count: all}}

Finding::

    infra.yml:27:3: error[PVE004] train would get 17 GPUs, but a Proxmox VM takes at most 16 passed-through devices (hostpci0 to hostpci15); give it at most 16 (gpu.count), or split the work over two VMs
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.proxmox.pve_config import MAX_HOSTPCI
from generator.rules.base import Context, Problem

CODE = "PVE004"
SEVERITY = "error"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    for consumer in ctx.consumers():
        if consumer.target != "proxmox":
            continue
        count = len(ctx.gpus_of(consumer))
        if count > MAX_HOSTPCI:
            yield Problem(f"{consumer.name} would get {count} GPUs, but a Proxmox VM takes at most {MAX_HOSTPCI} "
                          f"passed-through devices (hostpci0 to hostpci{MAX_HOSTPCI - 1}); give it at most "
                          f"{MAX_HOSTPCI} (gpu.count), or split the work over two VMs", consumer.path, at="key")
