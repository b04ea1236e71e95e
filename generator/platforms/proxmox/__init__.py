"""Proxmox VE: a workload is a VM (qemu-server) on its `host`, its GPUs passed through.

Every Proxmox workload is a virtual machine, and its GPU is passed through
unless its request says `passthrough: false`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAME = "proxmox"
HOST_PLATFORMS: tuple[str | None, ...] = ("proxmox",)
HOSTS = "the proxmox hosts (platform: proxmox)"
WORKLOADS = True
RENDER = "generator.platforms.proxmox.render:render"
UNITS = "generator.platforms.proxmox.apply:units"
PROGRAMS = "generator.platforms.proxmox.apply:programs"
DRIFT: str | None = None    # what changed by hand is not read back from it


def is_vm(spec: Mapping[str, Any]) -> bool:
    return True


def passthrough_default(spec: Mapping[str, Any]) -> bool:
    return True
