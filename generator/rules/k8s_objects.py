"""Each Kubernetes workload is its own object: no two name the same kind, namespace and name.

psot patches (or writes) the object `kind` named `name` (default: the
workload's name) in `namespace` (default `default`). Two workloads naming one
object would give it two patches that disagree on its GPU, node and
tolerations; kustomize refuses such an overlay, and a cluster would take
whichever came last.

Fix::

    Point each workload at its own object: give one of them another `name`, or
    the `namespace` or `kind` of the object it is for.

Passing::

    project_name: lab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
    workloads:
      chat: {target: kubernetes, host: node1, namespace: ai, gpu: {vram_gb: 8}}
      embed: {target: kubernetes, host: node1, namespace: ai, gpu: {vram_gb: 2}}

Failing::

    project_name: lab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
    workloads:
      chat: {target: kubernetes, host: node1, namespace: ai, gpu: {vram_gb: 8}}
      embed: {target: kubernetes, host: node1, namespace: ai, name: chat, gpu: {vram_gb: 2}}

Finding::

    infra.yml:11:3: error[K8S003] embed and chat are both the Deployment ai/chat: one object cannot take two patches; give one of them its own name, namespace or kind
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.kubernetes.render import DEFAULT_KIND, DEFAULT_NAMESPACE
from generator.rules.base import Context, Problem

CODE = "K8S003"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    first: dict[tuple[str, str, str], str] = {}
    for workload in ctx.infra.workloads.values():
        if workload.target != "kubernetes":
            continue
        identity = (workload.kind or DEFAULT_KIND, workload.namespace or DEFAULT_NAMESPACE,
                    workload.object_name or workload.name)
        if identity in first:
            kind, namespace, object_name = identity
            yield Problem(f"{workload.name} and {first[identity]} are both the {kind} {namespace}/{object_name}: "
                          "one object cannot take two patches; give one of them its own name, namespace or kind",
                          workload.path, at="key")
        else:
            first[identity] = workload.name
