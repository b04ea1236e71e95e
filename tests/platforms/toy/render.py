"""The toy platform's files: `toy/<host>/gpus.yml`, the GPUs placement gave each toy workload on that host."""

from __future__ import annotations

from typing import Any

from generator.model.core import Infra
from generator.placement.core import Placement
from tests.platforms.toy import NAME


def render(infra: Infra, placement: Placement) -> dict[str, Any]:
    by_host: dict[str, dict[str, list[str]]] = {}
    for name, consumer in infra.consumers.items():
        keys = placement.assignments[name].gpus
        if consumer.target == NAME and keys:
            by_host.setdefault(infra.gpus[keys[0]].host, {})[name] = [infra.gpus[k].name for k in keys]
    return {f"{NAME}/{host}/gpus.yml": {"workloads": workloads} for host, workloads in sorted(by_host.items())}
