"""A GPU passed through to a VM takes its whole IOMMU group: no other device of the group may stay on the host.

The IOMMU isolates devices by group, and vfio gives a group to one user:
QEMU can only open the card when every device of its group is bound to
vfio-pci (or is a PCI bridge), "a group is viable only when all the devices
in it are bound to a vfio driver"
(https://docs.kernel.org/driver-api/vfio.html). A NIC, an NVMe drive or
another GPU in the card's group that the host keeps makes the VM fail to
start ("group is not viable"), or, once bound away, takes the host's
device. psot checks the members the inventory knows: the GPUs with the
same `iommu_group` (with their `functions`) and the devices of
`hosts.<h>.iommu_groups`; a device of the card itself, one passed to the
same VM, and a bridge (class 06xx) are fine. psot never turns on the
ACS override (`pcie_acs_override`), which splits groups by pretending the
hardware isolates what it does not.

Fix::

    Pass the other members of the group to the same VM, move the card to a
    slot whose group is its own (`find /sys/kernel/iommu_groups/ -type l`
    shows the groups), or keep the card on the host.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2c05", iommu_group: 13}
        iommu_groups:
          - group: 13
            devices: [{pci: "0000:00:01.0", class: "0604"}, {pci: "0000:01:00.0"}]
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
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2c05", iommu_group: 13}
        iommu_groups:
          - group: 13
            devices: [{pci: "0000:01:00.0"}, {pci: "0000:03:00.0", pci_id: "8086:15f3", class: "0200"}]
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100}

Finding::

    infra.yml:9:105: error[PASS005] gaming passes pve/rtx-5070-ti through to a VM, but its IOMMU group 13 also holds 0000:03:00.0 (pci_id 8086:15f3, class 0200), which stays on the host: a VM takes the whole group; pass it to gaming too, move the card to a slot with a group of its own, or keep the card on the host (psot never turns on the ACS override)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model import passthrough
from generator.model.passthrough import Member
from generator.rules.base import Context, Problem

CODE = "PASS005"
SEVERITY = "error"
STAGE = "placement"


def _label(member: Member) -> str:
    if member.gpu is not None:
        return f"{member.gpu} ({member.pci})"
    facts = [f"pci_id {member.pci_id}" if member.pci_id else "", f"class {member.class_}" if member.class_ else ""]
    said = ", ".join(f for f in facts if f)
    return f"{member.pci} ({said})" if said else member.pci


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    for consumer in ctx.consumers():
        if not consumer.request.passthrough:
            continue
        mine = [infra.gpus[key] for key in ctx.gpus_of(consumer)]
        seen: set[tuple[str, int]] = set()
        for gpu in mine:
            host = infra.hosts[gpu.host]
            group = passthrough.group_of(host, gpu)
            if group is None or (host.name, group) in seen:
                continue
            seen.add((host.name, group))
            others = [m for m in passthrough.members(host, group) if not m.is_bridge and not any(passthrough.covers(g, m.pci) for g in mine)]
            if not others:
                continue
            written = "iommu_group" in (host.spec.get("gpus") or {}).get(gpu.name, {})
            yield Problem(f"{consumer.name} passes {gpu.key} through to a VM, but its IOMMU group {group} also "
                          f"holds {', '.join(_label(m) for m in others)}, which {'stay' if len(others) > 1 else 'stays'}"
                          f" on the host: a VM takes the whole group; pass {'them' if len(others) > 1 else 'it'} to "
                          f"{consumer.name} too, move the card to a slot with a group of its own, or keep the card on "
                          "the host (psot never turns on the ACS override)",
                          gpu.path + ("iommu_group",) if written else gpu.path, at="value" if written else "key")
