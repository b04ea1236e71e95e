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
from generator.rules.base import Context, Problem

CODE = "NAME002"
SEVERITY = "error"
STAGE = "model"


def _named(data) -> Iterator[tuple[str, tuple]]:
    for domain_name, domain in (data.get("domains") or {}).items():
        for machine_name in ((domain or {}).get("machines") or {}):
            yield machine_name, ("domains", domain_name, "machines", machine_name)
    for workload_name in (data.get("workloads") or {}):
        yield workload_name, ("workloads", workload_name)


def check(ctx: Context) -> Iterator[Problem]:
    first: dict[str, tuple] = {}
    for name, path in _named(ctx.infra.data):
        if name in first:
            yield Problem(f"'{name}' is already used by {format_path(first[name])}; machine and workload names "
                          "share one namespace: rename one", path, at="key")
        else:
            first[name] = path
