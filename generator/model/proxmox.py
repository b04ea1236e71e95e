"""What infra.yml says of Proxmox VE beyond the shared model: node names, boot loaders, IOMMU parameters, hostpci.

They read the mappings as written (`hosts.<h>.proxmox`, `hosts.<h>.kernel`,
`global.proxmox`, `workloads.<w>.storage`), so the renderer and apply (which
has only infra.yml's data) answer alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

GRUB = "grub"
SYSTEMD_BOOT = "systemd-boot"
MAPPING = "mapping"
ADDRESS = "address"
# Intel's IOMMU is on by default in Proxmox's kernels from 6.8 on, AMD's always was: the Proxmox VE admin guide,
# "PCI(e) Passthrough", https://pve.proxmox.com/pve-docs/pve-admin-guide.html#qm_pci_passthrough ("For Intel
# CPUs, you may also need to enable the IOMMU on the kernel command line for older (pre-6.8) kernels").
# `amd_iommu=` takes fullflush, off, force_isolation, … but no `on` (the kernel's
# Documentation/admin-guide/kernel-parameters.txt).
INTEL_DEFAULT_ON = (6, 8)
_RELEASE = re.compile(r"(\d+)\.(\d+)")


def _section(spec: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return ((spec or {}).get("proxmox") or {}) if isinstance(spec, Mapping) else {}


def node_name(host: str, spec: Mapping[str, Any] | None) -> str:
    """The Proxmox node name of a host: `hosts.<h>.proxmox.node`, else the host key."""
    return _section(spec).get("node") or host


def boot_loader(spec: Mapping[str, Any] | None) -> str:
    """`grub` (default) or `systemd-boot`: where the host's kernel command line is kept."""
    return _section(spec).get("boot_loader") or GRUB


def kernel_release(spec: Mapping[str, Any] | None) -> tuple[int, int] | None:
    """(major, minor) of `hosts.<h>.kernel`, or None when it is not given."""
    match = _RELEASE.match(str((spec or {}).get("kernel") or ""))
    return (int(match.group(1)), int(match.group(2))) if match else None


def iommu_params(spec: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The kernel parameters a passthrough host needs: `iommu=pt` (no translation for the host's own devices),
    and `intel_iommu=on` unless the CPU is AMD's or the kernel is 6.8 or later (an AMD kernel ignores it, so
    an unknown vendor gets it too)."""
    vendor = (spec or {}).get("cpu_vendor")
    release = kernel_release(spec)
    if vendor == "amd" or (release is not None and release >= INTEL_DEFAULT_ON):
        return ("iommu=pt",)
    return ("intel_iommu=on", "iommu=pt")


def hostpci_mode(data: Mapping[str, Any]) -> str:
    """`global.proxmox.hostpci`: `mapping` (default) or `address`."""
    return ((data.get("global") or {}).get("proxmox") or {}).get("hostpci") or MAPPING


def storage(spec: Mapping[str, Any]) -> str | None:
    """`workloads.<w>.storage`: the Proxmox storage of the VM's EFI vars and TPM state disks."""
    return spec.get("storage")


def nodes(data: Mapping[str, Any]) -> dict[str, str]:
    """Proxmox node name -> host key, for every host of infra.yml (a node names its host in pci.cfg)."""
    hosts = data.get("hosts") or {}
    return {node_name(name, spec): name for name, spec in sorted(hosts.items()) if isinstance(spec, Mapping)}
