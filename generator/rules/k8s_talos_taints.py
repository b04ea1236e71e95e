"""A Talos node has two taints with one key: its machine config keeps one taint per key.

Talos holds a node's taints in `machine.nodeTaints`, a map from the taint's
key to `value:Effect`. Kubernetes allows one key with several effects
(`gpu=true:NoSchedule` and `gpu=true:NoExecute`); the machine config
cannot say both, so psot could not write the taints the node declares.

Fix::

    Keep one taint per key on the Talos node: drop one of them, or give it
    another key.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        talos: true
        taints:
          - {key: gpu, value: "true", effect: NoSchedule}
          - {key: gpu-evict, value: "true", effect: NoExecute}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        talos: true
        taints:
          - {key: gpu, value: "true", effect: NoSchedule}
          - {key: gpu, value: "true", effect: NoExecute}

Finding::

    infra.yml:10:9: error[K8S011] taint gpu=true:NoExecute on Talos node 'node1' has the key of gpu=true:NoSchedule (taints[0]); machine.nodeTaints keeps one taint per key: drop one of them or give it another key
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model.hosts import Taint
from generator.platforms.kubernetes import talos
from generator.rules.base import Context, Problem

CODE = "K8S011"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for name, host in ctx.infra.hosts.items():
        if not talos.is_talos(host.spec):
            continue
        first: dict[str, tuple[int, Taint]] = {}
        for i, taint in enumerate(host.taints):
            if taint.key in first:
                j, other = first[taint.key]
                yield Problem(f"taint {taint.text} on Talos node '{name}' has the key of {other.text} "
                              f"(taints[{j}]); machine.nodeTaints keeps one taint per key: drop one of them or "
                              "give it another key", taint.path)
            else:
                first[taint.key] = (i, taint)
