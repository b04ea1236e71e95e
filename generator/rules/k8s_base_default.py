"""No `global.kubernetes.base` is written and the default one, `k8s/` beside infra.yml, is not there.

The generated kustomization lists your kustomize directory as its first
resource whenever a Kubernetes workload has no `image`; without
`global.kubernetes.base` that is `k8s/` beside infra.yml. When it is
missing, `kubectl apply -k` fails on the generated overlay. This is a
warning, not an error (K8S008 is the error, once the setting is written),
because an infra.yml that names no base may be compiled only to place its
GPUs; a warning at the first workload that needs the base says what
applying it would need.

Fix::

    Create `k8s/` beside infra.yml with your manifests and a kustomization.yaml,
    or set `global.kubernetes.base` to the directory that has them.

Passing::

    project_name: lab
    global: {kubernetes: {base: .}}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24}
    workloads:
      chat: {target: kubernetes, image: "vllm/vllm-openai:v0.10.1", gpu: {vram_gb: 8}}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24}
    workloads:
      chat: {target: kubernetes, gpu: {vram_gb: 8}}

Finding::

    infra.yml:10:3: warning[K8S012] global.kubernetes.base 'k8s' cannot be built by kustomize: there is no such directory (relative to infra.yml); create it with your manifests and a kustomization.yaml (chat patches its Deployment default/chat there), or set base to the directory that has them
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.kubernetes import settings
from generator.rules.base import Context, Problem
from generator.rules.k8s_base import patched, problem

CODE = "K8S012"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    names = patched(ctx)
    if not names or "base" in settings.of(ctx.infra.data):
        return
    message = problem(ctx, names)
    if message is not None:
        yield Problem(message, ("workloads", names[0]), at="key")
