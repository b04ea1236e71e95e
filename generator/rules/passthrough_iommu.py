"""A host that passes a GPU through to a VM has `iommu: true`.

VFIO passthrough needs the IOMMU enabled in the firmware (VT-d, AMD-Vi)
and in the kernel: AMD's is on by default, Intel's from kernel 6.8, older
Intel kernels need `intel_iommu=on` (psot's proxmox/<host>/host/cmdline
carries it; `amd_iommu=on` is not a kernel option). psot cannot see the
machine, so the inventory says it.

Fix::

    Enable the IOMMU in the firmware (VT-d or AMD-Vi) and, on an Intel host
    before kernel 6.8, with `intel_iommu=on` on the kernel command line; then
    set `iommu: true` on the host.

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
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0"}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100}

Finding::

    infra.yml:5:3: error[PASS002] gaming passes pve/rtx-5070-ti through to a VM but host 'pve' does not have iommu: true; enable the IOMMU (VT-d or AMD-Vi in the firmware, intel_iommu=on before kernel 6.8) and set hosts.pve.iommu: true
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "PASS002"
SEVERITY = "error"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    hosts = ctx.infra.hosts
    for consumer in ctx.consumers():
        if not consumer.request.passthrough:
            continue
        for key in ctx.gpus_of(consumer):
            host = hosts[ctx.infra.gpus[key].host]
            if host.iommu:
                continue
            path = host.path + ("iommu",) if "iommu" in host.spec else host.path
            yield Problem(f"{consumer.name} passes {key} through to a VM but host '{host.name}' does not have "
                          f"iommu: true; enable the IOMMU (VT-d or AMD-Vi in the firmware, intel_iommu=on before kernel 6.8) "
                          f"and set "
                          f"hosts.{host.name}.iommu: true", path, at="value" if "iommu" in host.spec else "key")
