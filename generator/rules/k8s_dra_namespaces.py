"""With `gpu_api: dra`, Kubernetes workloads in different namespaces share one GPU.

A GPU that several Kubernetes workloads share is one ResourceClaim that
all their pods reference (a device is allocated to one claim at a time). A
ResourceClaim is namespaced and a pod can only reference a claim of its own
namespace, so the workloads that share a GPU must be in one namespace.

Fix::

    Put the workloads that share the GPU in one `namespace`, or give one of
    them another GPU (`gpu.pin`, or `gpu_policy: exclusive`).

Passing::

    project_name: lab
    global: {gpu_policy: shared, kubernetes: {version: "1.34", gpu_api: dra}}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, uuid: GPU-11111111-2222-3333-4444-555555555555}
    workloads:
      chat: {target: kubernetes, namespace: ai, image: "vllm/vllm-openai:v0.10.1", gpu: {vram_gb: 8}}
      embed: {target: kubernetes, namespace: ai, image: "ghcr.io/huggingface/tei:1.5", gpu: {vram_gb: 2}}

Failing::

    project_name: lab
    global: {gpu_policy: shared, kubernetes: {version: "1.34", gpu_api: dra}}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, uuid: GPU-11111111-2222-3333-4444-555555555555}
    workloads:
      chat: {target: kubernetes, namespace: ai, image: "vllm/vllm-openai:v0.10.1", gpu: {vram_gb: 8}}
      embed: {target: kubernetes, namespace: search, image: "ghcr.io/huggingface/tei:1.5", gpu: {vram_gb: 2}}

Finding::

    infra.yml:11:3: error[K8S010] embed (namespace search) shares node1/rtx-4090 with chat (namespace ai): with gpu_api: dra they reference one ResourceClaim, which lives in one namespace; put them in one namespace, or give embed another GPU
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.kubernetes import dra, settings
from generator.platforms.kubernetes.render import identity, kubernetes_workloads
from generator.rules.base import Context, Problem

CODE = "K8S010"
SEVERITY = "error"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    if settings.gpu_api(infra.data) != settings.DRA:
        return
    workloads = kubernetes_workloads(infra)
    for key, names in dra.shared_gpus(ctx.need_placement(), workloads).items():
        first = names[0]
        first_namespace = identity(first, workloads[first])[1]
        for name in names[1:]:
            namespace = identity(name, workloads[name])[1]
            if namespace != first_namespace:
                yield Problem(f"{name} (namespace {namespace}) shares {key} with {first} (namespace "
                              f"{first_namespace}): with gpu_api: dra they reference one ResourceClaim, which "
                              f"lives in one namespace; put them in one namespace, or give {name} another GPU",
                              ("workloads", name), at="key")
