"""The platforms psot compiles for, found through one registry: `PLATFORMS`.

A platform is one package, generator/platforms/<name>/: its `__init__`
declares its traits (`Package` lists them), `render.py` renders its files
into generated/<name>/, and `apply.py` turns its changed files into the
commands of its CLI, says which programs those are and, where the platform
can be asked, what changed on it by hand since psot applied it. Adding a platform is
that package plus one entry in `PLATFORMS`; everything that used to list the
platforms by name (the model, placement, the rules, render, apply, the
schema's enums) asks the registry.

The registry is cheap to import (the model imports it, and the render and
apply modules import the model): a package's `__init__` imports nothing of
psot, and its render and apply functions are named by dotted path
(`module:function`) and imported when first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from generator.platforms import compose, incus, kubernetes, proxmox

SpecTest = Callable[[Mapping[str, Any]], bool]


class Package(Protocol):
    """What a platform package's `__init__` declares (mypy checks each package in `PLATFORMS` against it)."""

    NAME: str                                # its `global.targets` value and its folder in generated/
    HOST_PLATFORMS: tuple[str | None, ...]   # `hosts.<h>.platform` values it may place on (None: no platform)
    HOSTS: str                               # those hosts as FIT003 names them
    WORKLOADS: bool                          # whether a `workloads.<w>.target` may name it
    RENDER: str                              # module:function, (Infra, Placement) -> {path: data}
    UNITS: str                               # module:function, its changed files -> apply units
    PROGRAMS: str                            # module:function, its files -> the programs apply runs
    DRIFT: str | None                        # module:function, its applied files -> what changed by hand

    def is_vm(self, spec: Mapping[str, Any]) -> bool:
        """Whether the consumer written as `spec` (machine or workload) is a virtual machine."""
        ...

    def passthrough_default(self, spec: Mapping[str, Any]) -> bool:
        """`gpu.passthrough` of the consumer written as `spec` when infra.yml does not say."""
        ...


@dataclass(frozen=True)
class Platform:
    """One platform's traits, as its package declares them (see `Package`)."""

    name: str
    host_platforms: tuple[str | None, ...]
    hosts: str
    workloads: bool
    is_vm: SpecTest
    passthrough_default: SpecTest
    render: str
    units: str
    programs: str
    drift: str | None

    @classmethod
    def of(cls, package: Package) -> Platform:
        return cls(package.NAME, package.HOST_PLATFORMS, package.HOSTS, package.WORKLOADS, package.is_vm,
                   package.passthrough_default, package.RENDER, package.UNITS, package.PROGRAMS, package.DRIFT)

    @property
    def host_platform_names(self) -> str:
        """Its host platforms as a message writes them: `incus`, `docker or podman`."""
        return " or ".join(p for p in self.host_platforms if p is not None)


def load(reference: str) -> Any:
    """The object a `module:function` reference names, importing its module."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


# name -> Platform, in the order psot renders, plans and applies them.
PLATFORMS: dict[str, Platform] = {p.name: p for p in map(Platform.of, (incus, proxmox, compose, kubernetes))}

