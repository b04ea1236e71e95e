"""A taint on a Kubernetes node that no workload tolerates.

psot gives the toleration of every taint of a node to each Kubernetes
workload that runs there: the workload's `host`, or the host of a GPU
placement gave it. A taint on a node where no
Kubernetes workload runs is tolerated by none of them: it only keeps pods
away, which is rarely what it was written for. Only hosts with
`platform: kubernetes` are Kubernetes nodes. A workload with `gpu: false`
still runs on its `host` and counts.

Fix::

    Remove the taint, or run the workload it is meant for on that node (its
    `host`, or a pin to a GPU of the node).

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      khelben:
        platform: kubernetes
        taints: [{key: dedicated, value: vllm, effect: NoSchedule}]
        gpus:
          strix-halo: {vendor: amd, model: Radeon 8060S (Strix Halo), vram_gb: 64}
    workloads:
      vllm: {target: kubernetes, host: khelben, model: {name: Llama-3.3-70B, vram_gb: 42}}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      khelben:
        platform: kubernetes
        taints: [{key: dedicated, value: vllm, effect: NoSchedule}]
        gpus:
          strix-halo: {vendor: amd, model: Radeon 8060S (Strix Halo), vram_gb: 64}
      elminster:
        platform: kubernetes
        gpus:
          rtx-2070: {vendor: nvidia, model: GeForce RTX 2070, vram_gb: 8, compute_capability: "7.5"}
    workloads:
      vllm: {target: kubernetes, host: elminster, model: {name: Llama-3.1-8B, vram_gb: 6}}

Finding::

    infra.yml:7:14: warning[K8S001] taint dedicated=vllm:NoSchedule on node 'khelben' is tolerated by no workload: no Kubernetes workload runs there; remove the taint, or run the workload it is for there (host: khelben)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, workloads_by_node

CODE = "K8S001"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    running = workloads_by_node(ctx)
    for name, host in ctx.infra.hosts.items():
        if host.platform != "kubernetes" or running.get(name):
            continue
        for taint in host.taints:
            yield Problem(f"taint {taint.text} on node '{name}' is tolerated by no workload: no Kubernetes "
                          f"workload runs there; remove the taint, or run the workload it is for there "
                          f"(host: {name})", taint.path)
