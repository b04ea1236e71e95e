"""With `gpu_api: dra`, a Kubernetes workload's GPU has nothing in the inventory its DRA claim can pin it by.

A claim selects the GPU psot chose by an attribute its vendor's DRA driver
publishes: NVIDIA's `uuid`, or the PCI address (`resource.kubernetes.io/pciBusID`
for NVIDIA and Intel, `pciAddr` for AMD). A GPU whose inventory has neither
`uuid` (NVIDIA) nor `pci` gets a claim on the vendor's DeviceClass alone:
the scheduler may allocate any GPU of that vendor on the node.

Fix::

    Add the GPU's `pci` address (or `uuid` for NVIDIA): `psot detect` fills
    both in from the machine.

Passing::

    project_name: lab
    global: {kubernetes: {version: "1.34", gpu_api: dra}}
    domains: {}
    hosts:
      big:
        platform: kubernetes
        gpus:
          mi: {vendor: amd, vram_gb: 16, pci: "0000:03:00.0"}
    workloads:
      chat: {target: kubernetes, image: "rocm/vllm:latest", gpu: {vram_gb: 8}}

Failing::

    project_name: lab
    global: {kubernetes: {version: "1.34", gpu_api: dra}}
    domains: {}
    hosts:
      big:
        platform: kubernetes
        gpus:
          mi: {vendor: amd, vram_gb: 16}
    workloads:
      chat: {target: kubernetes, image: "rocm/vllm:latest", gpu: {vram_gb: 8}}

Finding::

    infra.yml:8:7: warning[K8S009] big/mi has no pci in the inventory, so the DRA claim of chat asks for any gpu.amd.com device and the scheduler may give it another GPU; add its pci (psot detect reads it)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms import kubernetes
from generator.platforms.kubernetes import settings
from generator.platforms.kubernetes.gpus import DRA_DRIVERS, dra_selector
from generator.rules.base import Context, Problem

CODE = "K8S009"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    if settings.gpu_api(infra.data) != settings.DRA:
        return
    users: dict[str, list[str]] = {}
    for consumer in ctx.consumers():
        if consumer.target == kubernetes.NAME:
            for key in ctx.gpus_of(consumer):
                users.setdefault(key, []).append(consumer.name)
    for key, names in sorted(users.items()):
        gpu = infra.gpus[key]
        if dra_selector(gpu) is not None:
            continue
        driver = DRA_DRIVERS[gpu.vendor]
        missing = "neither uuid nor pci" if driver.by_uuid else "no pci"
        add = "its uuid or pci" if driver.by_uuid else "its pci"
        claims = "claim" if len(names) == 1 else "claims"
        yield Problem(f"{key} has {missing} in the inventory, so the DRA {claims} of {', '.join(names)} "
                      f"asks for any {driver.device_class} device and the scheduler may give it another GPU; "
                      f"add {add} (psot detect reads it)", gpu.path, at="key")
