"""The entries of infra.yml's `workloads:` (Compose services, Kubernetes workloads, Proxmox VMs), GPU
consumers or not, with the keys the rules and renderers read.

A key that is not written is None, unless its default is the workload's own name (`service`); the
defaults of the platforms' keys stay with their renderers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class WorkloadModel:
    """What a workload loads (`model:`), each key None when not written."""
    name: str | None
    vram_gb: float | None
    disk_gb: float | None
    pool: str | None


@dataclass(frozen=True)
class Workload:
    name: str
    target: str                          # compose, kubernetes or proxmox
    host: str | None
    model: WorkloadModel
    service: str                         # compose: the service in the user's compose file (default: the name)
    environment: Mapping[str, Any]       # compose: variables added to the service
    kind: str | None                     # kubernetes: Deployment, StatefulSet or DaemonSet
    namespace: str | None                # kubernetes
    object_name: str | None              # `name`: the Kubernetes object's, or the Proxmox VM's
    dedicated_node: bool                 # kubernetes
    vmid: int | None                     # proxmox
    machine: str | None                  # proxmox: the QEMU machine type
    path: tuple


def workload_views(section: Mapping[str, Any]) -> dict[str, Workload]:
    """The views of a schema-valid `workloads:` section, in file order."""
    return {name: _workload(name, spec or {}) for name, spec in section.items()}


def _workload(name: str, spec: Mapping[str, Any]) -> Workload:
    model = spec.get("model") or {}
    return Workload(
        name=name, target=spec["target"], host=spec.get("host"),
        model=WorkloadModel(model.get("name"), model.get("vram_gb"), model.get("disk_gb"), model.get("pool")),
        service=spec.get("service", name), environment=MappingProxyType(spec.get("environment") or {}),
        kind=spec.get("kind"), namespace=spec.get("namespace"), object_name=spec.get("name"),
        dedicated_node=spec.get("dedicated_node") is True, vmid=spec.get("vmid"), machine=spec.get("machine"),
        path=("workloads", name),
    )
