"""Dynamic Resource Allocation (`global.kubernetes.gpu_api: dra`): the claims that give a pod the GPU psot chose.

A workload's GPUs that no other Kubernetes workload uses are one
ResourceClaimTemplate, `<workload>-gpu` in the workload's namespace, with one
request per GPU (`gpu-0`, `gpu-1`, …): the vendor's DeviceClass and a CEL
selector on the attribute its DRA driver publishes (gpus.py). Each pod of
the workload gets its own claim from it. A GPU that several Kubernetes
workloads share cannot be one claim per pod (a device is allocated to one
claim at a time), so it is one ResourceClaim, `<host>-<gpu>`, that every
pod of those workloads references (github:NVIDIA/k8s-dra-driver-gpu,
demo/specs/quickstart/v1/gpu-test3.yaml; github:ROCm/k8s-gpu-dra-driver,
example/example-multiple-pod-share.yaml). For an NVIDIA GPU its config
asks the driver to time-slice it (`GpuConfig`, `sharing.strategy:
TimeSlicing`, api/nvidia.com/resource/v1beta1/gpuconfig.go); the driver
applies a sharing strategy only with its `TimeSlicingSettings` feature gate
(pkg/featuregates/featuregates.go). A claim is namespaced: the workloads
sharing a GPU must be in one namespace (rule K8S010).

The pod template lists its claims in `resourceClaims` (`gpu` from the
template, `shared-gpu-<i>` for the shared claims) and the container names
them in `resources.claims`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.model.core import Gpu, Infra
from generator.placement.core import Placement
from generator.platforms.kubernetes.gpus import DRA_DRIVERS, dra_selector

API_VERSION = "resource.k8s.io/v1"
POD_CLAIM = "gpu"
SHARED_POD_CLAIM = "shared-gpu"
NVIDIA_CONFIG_API = "resource.nvidia.com/v1beta1"


def template_name(workload: str) -> str:
    return f"{workload}-gpu"


def claim_name(gpu: Gpu) -> str:
    return f"{gpu.host}-{gpu.name}"


def shared_gpus(placement: Placement, workloads: Mapping[str, Any]) -> dict[str, list[str]]:
    """`host/gpu` -> the Kubernetes workloads that share it, for GPUs with more than one."""
    out = {}
    for key, use in placement.gpus.items():
        names = sorted(c for c in use.consumers if c in workloads)
        if len(names) > 1:
            out[key] = names
    return dict(sorted(out.items()))


def _request(gpu: Gpu, name: str) -> dict[str, Any]:
    exactly: dict[str, Any] = {"deviceClassName": DRA_DRIVERS[gpu.vendor].device_class}
    selector = dra_selector(gpu)
    if selector is not None:
        exactly["selectors"] = [{"cel": {"expression": selector}}]
    return {"name": name, "exactly": exactly}


def template(name: str, namespace: str, gpus: list[Gpu]) -> dict[str, Any]:
    """The ResourceClaimTemplate of a workload's own GPUs."""
    return {
        "apiVersion": API_VERSION,
        "kind": "ResourceClaimTemplate",
        "metadata": {"name": template_name(name), "namespace": namespace},
        "spec": {"spec": {"devices": {"requests": [_request(g, f"gpu-{i}") for i, g in enumerate(gpus)]}}},
    }


def shared_claim(gpu: Gpu, namespace: str) -> dict[str, Any]:
    """The ResourceClaim of a GPU several workloads share."""
    devices: dict[str, Any] = {"requests": [_request(gpu, "gpu")]}
    if gpu.vendor == "nvidia":
        devices["config"] = [{"requests": ["gpu"], "opaque": {
            "driver": DRA_DRIVERS["nvidia"].device_class,
            "parameters": {"apiVersion": NVIDIA_CONFIG_API, "kind": "GpuConfig",
                           "sharing": {"strategy": "TimeSlicing"}}}}]
    return {
        "apiVersion": API_VERSION,
        "kind": "ResourceClaim",
        "metadata": {"name": claim_name(gpu), "namespace": namespace},
        "spec": {"devices": devices},
    }


def pod_claims(infra: Infra, name: str, gpus: tuple[str, ...],
               shared: Mapping[str, list[str]]) -> list[dict[str, str]]:
    """The pod's `resourceClaims`: its template when it has GPUs of its own, then the shared claims."""
    claims = []
    if any(key not in shared for key in gpus):
        claims.append({"name": POD_CLAIM, "resourceClaimTemplateName": template_name(name)})
    for i, key in enumerate(k for k in gpus if k in shared):
        claims.append({"name": f"{SHARED_POD_CLAIM}-{i}", "resourceClaimName": claim_name(infra.gpus[key])})
    return claims
