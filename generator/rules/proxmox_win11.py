"""A Windows 11 Proxmox VM names the `storage` of its EFI vars and TPM state disks.

Windows 11 setup requires UEFI with Secure Boot and a TPM 2.0. Proxmox
keeps both on disks of a storage: `efidisk0` (the EFI variables, with the
Microsoft keys enrolled) and `tpmstate0` (the TPM's state). psot writes
them for an `ostype: win11` VM once it knows the storage (`qm set`
allocates them there); without it psot writes neither, and the VM starts
with EFI variables that are lost at every stop and no TPM.

Fix::

    Set the workload's `storage` to a Proxmox storage that holds VM disks
    (`pvesm status`; e.g. `local-lvm`).

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve: {platform: proxmox}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, ostype: win11, storage: local-lvm}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve: {platform: proxmox}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, ostype: win11}

Finding::

    infra.yml:7:59: warning[PVE006] gaming is a Windows 11 VM (ostype: win11) without a `storage`: psot writes no efidisk0 (EFI variables, Secure Boot keys) and no tpmstate0 (TPM 2.0), which Windows 11 setup requires; set workloads.gaming.storage to a Proxmox storage (e.g. local-lvm)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model import proxmox as pve
from generator.platforms import proxmox
from generator.rules.base import Context, Problem

CODE = "PVE006"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for name, spec in (ctx.infra.data.get("workloads") or {}).items():
        spec = spec or {}
        if spec.get("target") != proxmox.NAME or spec.get("ostype") != "win11" or pve.storage(spec):
            continue
        yield Problem(f"{name} is a Windows 11 VM (ostype: win11) without a `storage`: psot writes no efidisk0 "
                      "(EFI variables, Secure Boot keys) and no tpmstate0 (TPM 2.0), which Windows 11 setup "
                      f"requires; set workloads.{name}.storage to a Proxmox storage (e.g. local-lvm)",
                      ("workloads", name, "ostype"))
