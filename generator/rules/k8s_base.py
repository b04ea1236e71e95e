"""`global.kubernetes.base`, the kustomize directory the overlay patches, is not there.

The generated kustomization lists your base (`global.kubernetes.base`,
relative to infra.yml) as its first resource whenever a Kubernetes workload
has no `image` (psot patches your object rather than writing one). When
that directory is missing, or holds no kustomization.yaml, `kubectl
kustomize` and `kubectl apply -k` fail on the generated overlay; psot says
so at compile time, at the setting.

Fix::

    Create the directory with your manifests and a kustomization.yaml listing
    them, or point `global.kubernetes.base` at the directory that has them.

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
    global: {kubernetes: {base: manifests}}
    domains: {}
    hosts:
      node1:
        platform: kubernetes
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24}
    workloads:
      chat: {target: kubernetes, gpu: {vram_gb: 8}}

Finding::

    infra.yml:2:29: error[K8S008] global.kubernetes.base 'manifests' cannot be built by kustomize: there is no such directory (relative to infra.yml); create it with your manifests and a kustomization.yaml (chat patches its Deployment default/chat there), or set base to the directory that has them
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.kubernetes import base, settings
from generator.platforms.kubernetes.render import identity, kubernetes_workloads
from generator.rules.base import Context, Problem

CODE = "K8S008"
SEVERITY = "error"
STAGE = "model"


def patched(ctx: Context) -> list[str]:
    """The Kubernetes workloads whose object is in the base (those without an `image`)."""
    return [name for name, spec in kubernetes_workloads(ctx.infra).items() if not spec.get("image")]


def problem(ctx: Context, names: list[str]) -> str | None:
    """What the message says is wrong with the base and what patches it, or None when it is fine."""
    why = base.missing(ctx.infra)
    if why is None:
        return None
    kind, namespace, name = identity(names[0], kubernetes_workloads(ctx.infra)[names[0]])
    return (f"global.kubernetes.base '{settings.base(ctx.infra.data)}' cannot be built by kustomize: {why}; "
            f"create it with your manifests and a kustomization.yaml ({names[0]} patches its {kind} "
            f"{namespace}/{name} there), or set base to the directory that has them")


def check(ctx: Context) -> Iterator[Problem]:
    names = patched(ctx)
    if not names or "base" not in settings.of(ctx.infra.data):
        return
    message = problem(ctx, names)
    if message is not None:
        yield Problem(message, ("global", "kubernetes", "base"))
