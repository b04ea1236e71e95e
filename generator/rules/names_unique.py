"""A machine or workload name is used only once, across all domains and workloads.

Machine and workload names share one namespace: they key the placement, and
they become file names.

Fix::

    Rename one of the two.

Passing::

    project_name: lab
    global: {gpu_policy: shared}
    domains:
      ai:
        machines:
          llm: {type: lxc, gpu: true}
      web:
        machines:
          proxy: {type: lxc}

Failing::

    project_name: lab
    global: {gpu_policy: shared}
    domains:
      ai:
        machines:
          llm: {type: lxc, gpu: true}
      web:
        machines:
          llm: {type: lxc}

Finding::

    infra.yml:9:7: error[NAME002] 'llm' is already used by domains.ai.machines.llm; machine and workload names share one namespace: rename one
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.diagnostics.findings import format_path
from generator.model.core import Infra
from generator.rules.base import Context, Problem

CODE = "NAME002"
SEVERITY = "error"
STAGE = "model"


def _named(infra: Infra) -> Iterator[tuple[str, tuple]]:
    for domain in infra.domains.values():
        for machine in domain.machines.values():
            yield machine.name, machine.path
    for workload in infra.workloads.values():
        yield workload.name, workload.path


def check(ctx: Context) -> Iterator[Problem]:
    first: dict[str, tuple] = {}
    for name, path in _named(ctx.infra):
        if name in first:
            yield Problem(f"'{name}' is already used by {format_path(first[name])}; machine and workload names "
                          "share one namespace: rename one", path, at="key")
        else:
            first[name] = path
