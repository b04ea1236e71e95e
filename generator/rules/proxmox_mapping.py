"""The PCI mapping id of a GPU passed through to a Proxmox VM is one Proxmox accepts.

psot writes one cluster PCI mapping per passed-through GPU to
proxmox/mapping/pci.cfg, named by the GPU's `mapping` or else
`<host>-<gpu>`. Proxmox skips a mapping whose id is not a config id: a
letter first, then at least one letter, digit, `-` or `_`.

Fix::

    Set the GPU's `mapping` to an id that starts with a letter, followed by
    letters, digits, `-` or `_` (e.g. `gpu-5070ti`).

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        platform: proxmox
        iommu: true
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2c05", mapping: gaming-gpu}
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
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2c05", mapping: 5070ti}
    workloads:
      gaming: {target: proxmox, host: pve, vmid: 100}

Finding::

    infra.yml:9:101: error[PVE003] mapping '5070ti' of pve/rtx-5070-ti is not a Proxmox mapping id: it must start with a letter, then letters, digits, '-' or '_' (2 characters or more)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.proxmox import pve_config
from generator.rules.base import Context, Problem

CODE = "PVE003"
SEVERITY = "error"
STAGE = "placement"

_FORMAT = "it must start with a letter, then letters, digits, '-' or '_' (2 characters or more)"


def check(ctx: Context) -> Iterator[Problem]:
    seen = set()
    for consumer in ctx.consumers():
        if consumer.target != "proxmox" or not consumer.request.passthrough:
            continue
        for key in ctx.gpus_of(consumer):
            if key in seen:
                continue
            seen.add(key)
            gpu = ctx.infra.gpus[key]
            mapping = gpu.mapping
            if mapping is not None:
                if not pve_config.is_config_id(mapping):
                    yield Problem(f"mapping {mapping!r} of {key} is not a Proxmox mapping id: {_FORMAT}",
                                  gpu.path + ("mapping",))
            elif not pve_config.is_config_id(f"{gpu.host}-{gpu.name}"):
                yield Problem(f"{key} has no `mapping` name and its default '{gpu.host}-{gpu.name}' is not a "
                              f"Proxmox mapping id ({_FORMAT}); set hosts.{gpu.host}.gpus.{gpu.name}.mapping",
                              gpu.path, at="key")
