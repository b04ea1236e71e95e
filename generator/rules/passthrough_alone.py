"""A GPU passed through to a VM serves nothing else, whatever `gpu_policy` says.

vfio-pci gives the VM the whole PCI device: the host and every other
instance lose it, so `shared` does not apply to it. Passthrough consumers
are Incus VMs (`type: vm`) and Proxmox workloads with GPU access, unless
`gpu.passthrough: false`. Checked per physical GPU of the `hosts` inventory.

Fix::

    Give the other consumers another GPU (a pin, or another GPU in the
    inventory), or stop passing the card through: `gpu.passthrough: false`, or an
    Incus container instead of a VM.

Passing::

    project_name: homelab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0, pci: "0000:01:00.0"}
          gtx-970: {vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0"}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, gpu: {pin: rtx-5070-ti}}
      plex: {target: compose, host: pve, gpu: {pin: gtx-970}}

Failing::

    project_name: homelab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0, pci: "0000:01:00.0"}
          gtx-970: {vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0"}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, gpu: {pin: rtx-5070-ti}}
      plex: {target: compose, host: pve, gpu: {pin: rtx-5070-ti}}

Finding::

    infra.yml:13:3: error[PASS001] GPU 0 (pve/rtx-5070-ti) is passed through to VM gaming (vfio-pci), so it can serve nothing else under any gpu_policy: plex must use another GPU
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, gpu_groups, names

CODE = "PASS001"
SEVERITY = "error"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    for key, group in gpu_groups(ctx):
        vms = [c for c in group if c.request.passthrough]
        if key is None or not vms or len(group) < 2:
            continue
        vm = vms[0]
        others = [c for c in group if c is not vm]
        yield Problem(f"{ctx.infra.gpu_label(key)} is passed through to VM {vm.name} (vfio-pci), so it can serve nothing "
                      f"else under any gpu_policy: {names(others)} must use another GPU", group[1].path, at="key")
