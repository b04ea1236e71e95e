"""Where the workloads' model files go: the storage pool of their host that holds them.

A workload's model is on `model.pool` of its host, or on the host's only pool when `pool` is not given;
psot cannot tell which of several pools it is on without `pool`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.model.core import Host, Infra
from generator.model.workloads import Workload


@dataclass(frozen=True)
class StoredModel:
    workload: str
    name: str | None
    disk_gb: float
    host: str
    pool: str

    @property
    def path(self) -> tuple:
        return ("workloads", self.workload, "model", "disk_gb")

    @property
    def label(self) -> str:
        return f"{self.workload} ({self.name})" if self.name else self.workload


def pool_of(workload: Workload, hosts: Mapping[str, Host]) -> tuple[str, str] | None:
    """(host, pool) that holds a workload's model files, when infra.yml says or implies it."""
    host = workload.host
    if host is None or host not in hosts:
        return None  # kubernetes without a node, or an undefined host (REF001)
    storage = hosts[host].storage
    pool = workload.model.pool
    if pool is None:
        if len(storage) != 1:
            return None  # no pools to check against, or several and no way to tell which
        pool = next(iter(storage))
    return (host, pool) if pool in storage else None


def stored_models(infra: Infra) -> dict[tuple[str, str], list[StoredModel]]:
    """Models with `disk_gb`, grouped by (host, pool), in file order."""
    out: dict[tuple[str, str], list[StoredModel]] = {}
    for workload in infra.workloads.values():
        disk_gb = workload.model.disk_gb
        where = pool_of(workload, infra.hosts)
        if disk_gb is None or where is None:
            continue
        out.setdefault(where, []).append(StoredModel(workload.name, workload.model.name, float(disk_gb), *where))
    return out
