"""A GPU passed through to a VM as the whole card: its PCI functions, its slot, and its IOMMU group's members.

A VM is given a card with all its functions (the GPU and its HDMI audio, a
USB-C controller: `functions`), and with its whole IOMMU group: vfio can only
hand a group to one user, so every other device of the group must go with
it or be a bridge (the kernel's VFIO documentation,
https://docs.kernel.org/driver-api/vfio.html, "Groups, Devices, and
IOMMUs": "a group is viable only when all the devices in it are bound to a
vfio driver"; PCI bridges are the exception). These accessors serve every
platform that passes a GPU through (Proxmox and Incus VMs).

The group's members are what the inventory says: the GPUs whose
`iommu_group` is that group (with their functions, which share the group
of their card), and the devices of `hosts.<h>.iommu_groups` (what
`find /sys/kernel/iommu_groups/ -type l` lists, with the `pci_id` and
`class` of `lspci -nn -D`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from generator.model.core import Gpu, Host


@dataclass(frozen=True)
class Member:
    """A PCI device of an IOMMU group."""
    pci: str
    pci_id: str | None
    class_: str | None
    gpu: str | None             # the `host/gpu` whose card it is, else None (a NIC, an NVMe, a bridge)

    @property
    def is_bridge(self) -> bool:
        """A PCI bridge (class 06xx): it stays on the host without making the group unusable for a VM."""
        return (self.class_ or "").startswith("06")


def card(gpu: Gpu) -> tuple[tuple[str, str | None], ...]:
    """(address, pci_id) of every function of the GPU's card, by address: the GPU's own first."""
    if gpu.pci is None:
        return ()
    others = sorted((f.pci, f.pci_id) for f in gpu.functions or () if f.pci != gpu.pci)
    return ((gpu.pci, gpu.pci_id), *others)


def companions(gpu: Gpu) -> tuple[str, ...]:
    """The addresses of the card's other functions, which a VM is given with the GPU."""
    return tuple(address for address, _ in card(gpu)[1:])


def slot(pci: str) -> str:
    """`0000:01:00` of `0000:01:00.1`: the device, all its functions."""
    return pci.rsplit(".", 1)[0]


def host_path(gpu: Gpu) -> str:
    """How to name the whole card to Proxmox: its slot (every function of it) when all the functions psot knows
    are on the GPU's slot, else the addresses joined by `;`. Without `functions` the slot still passes what the
    card has, and Proxmox binds those functions to vfio-pci when the VM starts."""
    addresses = [address for address, _ in card(gpu)]
    if not addresses:
        raise ValueError(f"{gpu.key} has no PCI address")
    head = slot(addresses[0])
    if all(slot(a) == head for a in addresses):
        return head
    return ";".join(addresses)


def covers(gpu: Gpu, address: str) -> bool:
    """Whether passing the card (as `host_path` names it) passes the device at `address`: a function of it, or
    any function of its slot when the slot names it."""
    path = host_path(gpu) if gpu.pci else ""
    return address in path.split(";") or (";" not in path and slot(address) == path)


def group_of(host: Host, gpu: Gpu) -> int | None:
    """The GPU's IOMMU group: its `iommu_group`, else the group of the host's listing that holds its address."""
    if gpu.iommu_group is not None:
        return gpu.iommu_group
    for entry in host.spec.get("iommu_groups") or []:
        if any((d.get("pci") or "").lower() == gpu.pci for d in entry.get("devices") or []):
            return entry.get("group")
    return None


def members(host: Host, group: int) -> list[Member]:
    """Every device of the host's IOMMU group `group` the inventory knows, by address."""
    owner = {address: gpu.key for gpu in host.gpus for address, _ in card(gpu)}
    found: dict[str, Member] = {}
    for gpu in host.gpus:
        if group_of(host, gpu) == group:
            for address, pci_id in card(gpu):
                found[address] = Member(address, pci_id, None, gpu.key)
    for entry in host.spec.get("iommu_groups") or []:
        if entry.get("group") != group:
            continue
        for device in entry.get("devices") or []:
            address = (device.get("pci") or "").lower()
            if address and address not in found:
                found[address] = Member(address, device.get("pci_id"), device.get("class"), owner.get(address))
    return [found[a] for a in sorted(found)]


def staying(host: Host, passed: Iterable[Gpu]) -> list[Member]:
    """Every device of the host the inventory knows that is not a function of a passed card: what stays on the
    host (its other GPUs with their functions, and the devices of `iommu_groups`)."""
    passed = list(passed)
    out: dict[str, Member] = {}
    for gpu in host.gpus:
        for address, pci_id in card(gpu):
            if not any(covers(p, address) for p in passed):
                out[address] = Member(address, pci_id, None, gpu.key)
    for entry in host.spec.get("iommu_groups") or []:
        for device in entry.get("devices") or []:
            address = (device.get("pci") or "").lower()
            if address and not any(covers(p, address) for p in passed) and address not in out:
                out[address] = Member(address, device.get("pci_id"), device.get("class"), None)
    return [out[a] for a in sorted(out)]
