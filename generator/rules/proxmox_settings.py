"""A Proxmox workload's `name` and `machine` are values qm.conf accepts.

psot writes them into proxmox/<host>/qemu-server/<vmid>.conf, checked the
way Proxmox reads the file (generator/platforms/proxmox/pve_config.py): `name` is a DNS name
on one line, `machine` a QEMU machine type Proxmox knows — `pc`, `q35`, a
versioned `pc-i440fx-X.Y` / `pc-q35-X.Y` (optionally `+pveN`), or `virt` —
optionally followed by `,viommu=intel|virtio`.

Fix::

    Write `name` as a DNS name on one line (letters, digits, hyphens, dots) and
    `machine` as one of the types the message lists, e.g. `q35`.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve: {platform: proxmox}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, machine: pc-q35-8.1, gpu: false}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve: {platform: proxmox}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100, machine: i440fx, gpu: false}

Finding::

    infra.yml:7:60: error[PVE002] machine 'i440fx' is not one Proxmox accepts: machine type 'i440fx' is not one of pc, pc-i440fx-X.Y, q35, pc-q35-X.Y, virt (optionally +pveN, .pxe); write e.g. q35 or pc-q35-8.1
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.proxmox import pve_config
from generator.rules.base import Context, Problem

CODE = "PVE002"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for workload in ctx.infra.workloads.values():
        if workload.target != "proxmox":
            continue
        path = workload.path
        vm_name = workload.object_name
        if vm_name is not None and not pve_config.is_dns_name(vm_name):
            yield Problem(f"name {vm_name!r} is not a DNS name Proxmox accepts: letters, digits and '-' in "
                          "dot-separated labels, on one line", path + ("name",))
        machine = workload.machine
        if machine is not None:
            problem = pve_config.machine_problem(machine)
            if problem:
                yield Problem(f"machine {machine!r} is not one Proxmox accepts: {problem}; write e.g. q35 or "
                              "pc-q35-8.1", path + ("machine",))
