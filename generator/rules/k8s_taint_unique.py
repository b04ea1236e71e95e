"""A node's taints are unique by key and effect, as Kubernetes keeps them.

Kubernetes identifies a taint by its key and effect: a node cannot hold
`gpu=a:NoSchedule` and `gpu=b:NoSchedule` at once, and `kubectl taint`
would apply one after the other, the last winning. Two such taints in
infra.yml say two things where the node can keep one.

Fix::

    Keep one taint per key and effect on the node: remove the duplicate, or
    give it another key or effect.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        taints:
          - {key: gpu, value: "true", effect: NoSchedule}
          - {key: gpu, value: "true", effect: NoExecute}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        taints:
          - {key: gpu, value: "true", effect: NoSchedule}
          - {key: gpu, value: "08", effect: NoSchedule}

Finding::

    infra.yml:9:9: error[K8S004] taint gpu=08:NoSchedule on node 'node1' has the key and effect of gpu=true:NoSchedule (taints[0]); a node keeps one taint per key and effect: remove one of them
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model.hosts import Taint
from generator.rules.base import Context, Problem

CODE = "K8S004"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for name, host in ctx.infra.hosts.items():
        first: dict[tuple[str, str], tuple[int, Taint]] = {}
        for i, taint in enumerate(host.taints):
            identity = (taint.key, str(taint.effect))
            if identity in first:
                j, other = first[identity]
                yield Problem(f"taint {taint.text} on node '{name}' has the key and effect of "
                              f"{other.text} (taints[{j}]); a node keeps one taint per key and effect: "
                              "remove one of them", taint.path)
            else:
                first[identity] = (i, taint)
