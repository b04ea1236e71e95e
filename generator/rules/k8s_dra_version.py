"""`global.kubernetes.gpu_api: dra` needs Kubernetes 1.34 or newer.

psot writes the Dynamic Resource Allocation objects (ResourceClaimTemplate,
ResourceClaim) in `resource.k8s.io/v1`, the API that became GA, and the
only one served by default, in Kubernetes 1.34. An older `version` has no
such API: the overlay would not apply.

Fix::

    Set `global.kubernetes.version` to "1.34" or newer (the cluster's
    version), or keep `gpu_api: device-plugin`.

Passing::

    project_name: lab
    global: {kubernetes: {version: "1.34", gpu_api: dra}}
    domains: {}
    hosts:
      big:
        platform: kubernetes
        gpus:
          a: {vendor: nvidia, vram_gb: 24, uuid: GPU-11111111-2222-3333-4444-555555555555}
    workloads:
      chat: {target: kubernetes, image: "vllm/vllm-openai:v0.10.1", gpu: {vram_gb: 20}}

Failing::

    project_name: lab
    global: {kubernetes: {version: "1.33", gpu_api: dra}}
    domains: {}
    hosts:
      big:
        platform: kubernetes
        gpus:
          a: {vendor: nvidia, vram_gb: 24, uuid: GPU-11111111-2222-3333-4444-555555555555}
    workloads:
      chat: {target: kubernetes, image: "vllm/vllm-openai:v0.10.1", gpu: {vram_gb: 20}}

Finding::

    infra.yml:2:49: error[K8S007] global.kubernetes.gpu_api is dra, which needs resource.k8s.io/v1 (Kubernetes 1.34 or newer), and global.kubernetes.version is 1.33; set version to "1.34" or newer, or gpu_api to device-plugin
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.kubernetes import settings
from generator.rules.base import Context, Problem

CODE = "K8S007"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    data = ctx.infra.data
    if settings.gpu_api(data) == settings.DRA and settings.version_tuple(data) < settings.DRA_SINCE:
        yield Problem(f"global.kubernetes.gpu_api is dra, which needs resource.k8s.io/v1 (Kubernetes 1.34 or "
                      f"newer), and global.kubernetes.version is {settings.version(data)}; set version to "
                      "\"1.34\" or newer, or gpu_api to device-plugin", ("global", "kubernetes", "gpu_api"))
