"""Incus: the machines of AnKLuMe domains, as Incus projects, profiles and instances.

Its consumers are the machines of `domains:` with GPU access (never
workloads); they name no host and are placed on the hosts with `platform:
incus` or none. A machine is a VM with `type: vm`, and a VM's GPU is passed
through unless its request says `passthrough: false`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAME = "incus"
HOST_PLATFORMS: tuple[str | None, ...] = ("incus", None)
HOSTS = "the incus hosts (platform: incus, or none)"
WORKLOADS = False
RENDER = "generator.platforms.incus.render:render"
UNITS = "generator.platforms.incus.apply:units"
PROGRAMS = "generator.platforms.incus.apply:programs"
DRIFT = "generator.platforms.incus.apply:drift"


def is_vm(spec: Mapping[str, Any]) -> bool:
    return spec.get("type") == "vm"


def passthrough_default(spec: Mapping[str, Any]) -> bool:
    return is_vm(spec)
