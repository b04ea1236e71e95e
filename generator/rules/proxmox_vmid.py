"""A Proxmox VM ID is used by one workload only.

VM IDs are unique in a Proxmox cluster, and psot writes each VM's config to
proxmox/<host>/qemu-server/<vmid>.conf: two workloads with one `vmid` would
be one VM. psot treats all its Proxmox hosts as one cluster (they share
proxmox/mapping/pci.cfg), so the IDs must differ across hosts too.

Fix::

    Give each Proxmox workload a `vmid` of its own, unique across all Proxmox
    hosts.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve: {platform: proxmox}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, gpu: false}
      dev: {target: proxmox, host: pve, vmid: 101, gpu: false}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve: {platform: proxmox}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, gpu: false}
      dev: {target: proxmox, host: pve, vmid: 100, gpu: false}

Finding::

    infra.yml:8:43: error[PVE001] vmid 100 is already used by workloads.gaming; every Proxmox VM needs its own vmid
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "PVE001"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    first: dict[int, str] = {}
    for workload in ctx.infra.workloads.values():
        vmid = workload.vmid
        if workload.target != "proxmox" or vmid is None:
            continue
        if vmid in first:
            yield Problem(f"vmid {vmid} is already used by workloads.{first[vmid]}; every Proxmox VM needs its own "
                          "vmid", workload.path + ("vmid",))
        else:
            first[vmid] = workload.name
