"""Talos nodes (`hosts.<host>.talos: true`): node labels and taints as a machine config patch.

Talos owns its nodes' labels and taints in its machine config
(`machine.nodeLabels`, a map of label to value; `machine.nodeTaints`, a map
of taint key to `value:Effect`, https://docs.siderolabs.com/kubernetes-guides/advanced-guides/node-labels)
and puts them back on the Node from there, so a `kubectl label` or `kubectl
taint` would not last. `kubernetes/talos/<host>.yaml` is that patch, applied
with `talosctl patch mc --nodes <host> --patch @kubernetes/talos/<host>.yaml`.
A taint without a value is `:Effect`. The map keeps one taint per key
(rule K8S011).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FOLDER = "talos"


def is_talos(spec: Mapping[str, Any]) -> bool:
    return spec.get("talos") is True


def taint_value(taint: Mapping[str, Any]) -> str:
    return f"{taint.get('value', '')}:{taint['effect']}"


def machine_config_patch(labels: Mapping[str, str], taints: list[dict[str, Any]]) -> dict[str, Any]:
    machine: dict[str, Any] = {}
    if labels:
        machine["nodeLabels"] = dict(sorted(labels.items()))
    if taints:
        machine["nodeTaints"] = {t["key"]: taint_value(t) for t in taints}
    return {"machine": machine}
