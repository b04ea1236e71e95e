"""Another Kubernetes workload runs on a node dedicated to a workload with `dedicated_node: true`.

`dedicated_node: true` keeps a node to one workload: a node taint that only
that workload tolerates, so that nothing else competes for the node (a vLLM
server and the unified memory of its machine, say). A workload runs on its
`host` and on the hosts of the GPUs placement gave it.

The findings are on the other workloads, not on the dedicated one:
`dedicated_node` is a claim on the node, and each other workload there is
a separate breach of it with its own line to change. So there is one
finding per other workload, at what put it on the node: its `host`, its
`pin`, or the workload itself when placement chose the node. When two
workloads both claim a node, each is reported.

Fix::

    Move the other workload to another node (its `host`, or a pin to a GPU of
    another node), or drop `dedicated_node` from the workload that claims the
    node.

Passing::

    project_name: homelab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      khelben:
        platform: kubernetes
        gpus:
          strix-halo: {vendor: amd, model: Radeon 8060S (Strix Halo), vram_gb: 64}
      elminster:
        platform: kubernetes
        gpus:
          rtx-2070: {vendor: nvidia, model: GeForce RTX 2070, vram_gb: 8, compute_capability: "7.5"}
    workloads:
      vllm: {target: kubernetes, host: khelben, dedicated_node: true, model: {name: Llama-3.3-70B, vram_gb: 42}}
      whisper: {target: kubernetes, host: elminster, model: {name: whisper-large-v3, vram_gb: 3}}
      xtts: {target: kubernetes, host: elminster, model: {name: XTTS-v2, vram_gb: 2}}

Failing::

    project_name: homelab
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      khelben:
        platform: kubernetes
        gpus:
          strix-halo: {vendor: amd, model: Radeon 8060S (Strix Halo), vram_gb: 64}
      elminster:
        platform: kubernetes
        gpus:
          rtx-2070: {vendor: nvidia, model: GeForce RTX 2070, vram_gb: 8, compute_capability: "7.5"}
    workloads:
      vllm: {target: kubernetes, host: khelben, dedicated_node: true, model: {name: Llama-3.3-70B, vram_gb: 42}}
      whisper: {target: kubernetes, host: elminster, model: {name: whisper-large-v3, vram_gb: 3}}
      bge-embeddings: {target: kubernetes, host: khelben, model: {name: bge-m3, vram_gb: 2}}

Finding::

    infra.yml:16:46: error[K8S002] bge-embeddings runs on node 'khelben', which is dedicated to vllm (dedicated_node: true); set its host to another node, or drop dedicated_node from vllm
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, workloads_by_node

CODE = "K8S002"
SEVERITY = "error"
STAGE = "placement"


def _cause(ctx: Context, name: str, node: str) -> tuple[tuple, str, str]:
    """(path, at, what to change) for the workload `name` running on `node`.

    Not on its `host`, it is a GPU consumer placed there (workloads_by_node).
    """
    infra = ctx.infra
    if infra.workloads[name].host == node:
        return ("workloads", name, "host"), "value", "set its host to another node"
    consumer = infra.consumers[name]
    pinned = consumer.request.pin_gpu
    if consumer.request.pin_written and pinned is not None and infra.gpus[pinned].host == node:
        return consumer.request.path + ("pin",), "value", "pin it to a GPU on another node"
    placed = ", ".join(k for k in ctx.gpus_of(consumer) if infra.gpus[k].host == node)
    return consumer.path, "key", f"placement gave it {placed}: set its host to another node"


def check(ctx: Context) -> Iterator[Problem]:
    workloads = ctx.infra.workloads
    for node, names in sorted(workloads_by_node(ctx).items()):
        dedicated = [n for n in names if workloads[n].dedicated_node]
        for owner in dedicated:
            for other in names:
                if other == owner:
                    continue
                path, at, change = _cause(ctx, other, node)
                yield Problem(f"{other} runs on node '{node}', which is dedicated to {owner} (dedicated_node: true); "
                              f"{change}, or drop dedicated_node from {owner}", path, at=at)
