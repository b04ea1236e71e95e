"""A request with `count: all` is for one host: the consumer's `host`, or the only host with GPUs it can run on.

`all` is every GPU of the consumer's host that the request accepts
(vendor, compute capability, status not `unavailable`). A compose or
Proxmox workload names its host. A Kubernetes workload without `host` may
run on any `platform: kubernetes` node, an Incus machine on any host with
`platform: incus` or none: with GPUs on several of them, `all` would span
machines one consumer cannot span. A file without GPU inventory is not
checked (its machines share the one host GPU, as for FIT003).

Fix::

    Give the workload a `host` (the node whose GPUs it should get), or write a
    number for `gpu.count`.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      n1:
        platform: kubernetes
        gpus:
          rtx-3090: {vendor: nvidia, vram_gb: 24, index: 0}
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 1}
      n2:
        platform: kubernetes
        gpus:
          rtx-2070: {vendor: nvidia, vram_gb: 8, index: 0}
    workloads:
      train: {target: kubernetes, host: n1, gpu: {count: all}}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      n1:
        platform: kubernetes
        gpus:
          rtx-3090: {vendor: nvidia, vram_gb: 24, index: 0}
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 1}
      n2:
        platform: kubernetes
        gpus:
          rtx-2070: {vendor: nvidia, vram_gb: 8, index: 0}
    workloads:
      train: {target: kubernetes, gpu: {count: all}}

Finding::

    infra.yml:15:44: error[FIT004] train asks for count: all, which needs one host, but it may run on n1, n2; set its host to the node whose GPUs it should get, or write a number for gpu.count
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.placement.eligibility import candidate_gpus, host_ok
from generator.rules.base import Context, Problem

CODE = "FIT004"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    if not infra.gpus:
        return
    for consumer in ctx.consumers():
        if not consumer.request.count_all or consumer.host is not None:
            continue
        hosts = sorted({g.host for g in candidate_gpus(consumer, infra) if host_ok(consumer, g, infra)})
        if len(hosts) <= 1:
            continue  # the one host it can use; none is FIT003's
        fix = ("set its host to the node whose GPUs it should get, or write a number for gpu.count"
               if consumer.target == "kubernetes" else "write a number for gpu.count")
        yield Problem(f"{consumer.name} asks for count: all, which needs one host, but it may run on "
                      f"{', '.join(hosts)}; {fix}", consumer.request.path + ("count",))
