"""The device plugin cannot give a Kubernetes workload the GPU psot chose among several of its node.

With `global.kubernetes.gpu_api: device-plugin` (the default) a pod asks for
a count of the vendor's extended resource (`nvidia.com/gpu: 1`), and the
kubelet gives it any GPU of the node behind that resource. On a node with
more such GPUs than the workload gets, psot's choice between them is only a
wish: two workloads psot put on different GPUs may land on the same one.
Dynamic Resource Allocation (Kubernetes 1.34) selects the very GPU.

Fix::

    Set `global.kubernetes.gpu_api: dra` (with `version` 1.34 or newer and the
    vendor's DRA driver installed), or accept that the kubelet picks the GPU.

Passing::

    project_name: lab
    global: {kubernetes: {version: "1.34", gpu_api: dra}}
    domains: {}
    hosts:
      big:
        platform: kubernetes
        gpus:
          a: {vendor: nvidia, vram_gb: 24, uuid: GPU-11111111-2222-3333-4444-555555555555}
          b: {vendor: nvidia, vram_gb: 24, uuid: GPU-66666666-7777-8888-9999-000000000000}
    workloads:
      chat: {target: kubernetes, image: "vllm/vllm-openai:v0.10.1", gpu: {vram_gb: 20, pin: a}}

Failing::

    project_name: lab
    global: {kubernetes: {version: "1.34"}}
    domains: {}
    hosts:
      big:
        platform: kubernetes
        gpus:
          a: {vendor: nvidia, vram_gb: 24}
          b: {vendor: nvidia, vram_gb: 24}
    workloads:
      chat: {target: kubernetes, image: "vllm/vllm-openai:v0.10.1", gpu: {vram_gb: 20, pin: a}}

Finding::

    infra.yml:11:3: warning[K8S006] chat: nvidia.com/gpu: 1 lets the kubelet give it any of the 2 nvidia.com/gpu GPUs of node 'big' (a, b), so psot's choice of big/a is not enforced; set global.kubernetes.gpu_api: dra (Kubernetes 1.34 or newer) to pin it
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms import kubernetes
from generator.platforms.kubernetes import settings
from generator.platforms.kubernetes.gpus import device_plugin_resource
from generator.rules.base import Context, Problem

CODE = "K8S006"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    if settings.gpu_api(infra.data) != settings.DEVICE_PLUGIN:
        return
    for consumer in ctx.consumers():
        if consumer.target != kubernetes.NAME:
            continue
        mine: dict[tuple[str, str], list[str]] = {}
        for key in ctx.gpus_of(consumer):
            gpu = infra.gpus[key]
            mine.setdefault((gpu.host, device_plugin_resource(gpu)), []).append(key)
        for (node, resource), keys in sorted(mine.items()):
            alike = [g.name for g in infra.hosts[node].gpus if device_plugin_resource(g) == resource]
            if len(alike) > len(keys):
                yield Problem(f"{consumer.name}: {resource}: {len(keys)} lets the kubelet give it any of the "
                              f"{len(alike)} {resource} GPUs of node '{node}' ({', '.join(alike)}), so psot's "
                              f"choice of {', '.join(keys)} is not enforced; set global.kubernetes.gpu_api: dra "
                              "(Kubernetes 1.34 or newer) to pin it", consumer.path, at="key")
