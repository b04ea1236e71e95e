"""Which GPUs a consumer may run on at all, before anything else is placed.

A consumer that names a `host` runs there, whatever its platform; one that
names none (an Incus machine, a Kubernetes workload without `host`) may use
the hosts whose `platform` its platform places on (the registry's
`host_platforms`, generator/platforms). Of those GPUs, the request's vendor
and minimum compute capability keep the ones it can use, and its `cuda`
(generator/hardware/cuda.py) the NVIDIA GPUs that run that CUDA release. A
GPU's status depends on who asks (`status`): a consumer on the host's driver
sees what that driver makes of the GPU, a VM it is passed through to (which
brings its own driver) the status infra.yml declares. A node dedicated to a
Kubernetes workload (`dedicated_node: true` on a workload whose `host`, or
pinned GPU, is that node) offers its GPUs to that workload alone: to any other
consumer that does not name the node as its `host` they are never a candidate,
nor a fallback (rule K8S002 reports one that does name it). Placement and the
rules that judge requests (FIT003, FIT004, VRAM003, DRV007, DRV008) ask the
same functions, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from generator.hardware import cuda, tables
from generator.hardware.tables import version
from generator.model.core import Consumer, Gpu, Infra
from generator.platforms import PLATFORMS


def status(consumer: Consumer, gpu: Gpu) -> str:
    """The GPU's status for the consumer: `declared_status` for a passthrough consumer, else `status`."""
    return gpu.declared_status if consumer.request.passthrough else gpu.status


def host_ok(consumer: Consumer, gpu: Gpu, infra: Infra) -> bool:
    """Whether the GPU's host is one the consumer may run on: its `host`, else a host of its platform that
    is not dedicated to another workload."""
    if consumer.host is not None:
        return gpu.host == consumer.host
    owners = infra.dedicated_nodes.get(gpu.host)
    if owners is not None and consumer.name not in owners:
        return False
    return infra.hosts[gpu.host].platform in PLATFORMS[consumer.target].host_platforms


def candidate_gpus(consumer: Consumer, infra: Infra) -> tuple[Gpu, ...] | list[Gpu]:
    """Only the GPUs of the consumer's host when it names one, so placement stays linear in hosts."""
    if consumer.host is not None:
        host = infra.hosts.get(consumer.host)
        return host.gpus if host is not None else ()
    return list(infra.gpus.values())


def cuda_failure(consumer: Consumer, gpu: Gpu) -> str | None:
    """What of the consumer's `gpu.cuda` the GPU fails (cuda.COMPUTE_CAPABILITY or cuda.DRIVER), or None.

    None too without `gpu.cuda`, for a release the tables do not know (DRV009) and for another
    vendor's GPU (which `gpu.cuda` excludes anyway, see `eligible`)."""
    release = tables.cuda(consumer.request.cuda) if consumer.request.cuda else None
    if release is None or gpu.vendor != "nvidia":
        return None
    return cuda.failure(release, gpu.vendor, gpu.architecture, gpu.compute_capability, gpu.driver,
                        host_driver=not consumer.request.passthrough)


def eligible_but_cuda(consumer: Consumer, infra: Infra) -> list[Gpu]:
    """The GPUs eligible for the consumer were it not for its `gpu.cuda`'s needs (sorted by `host/gpu`)."""
    request = consumer.request
    wanted = request.min_compute_capability
    vendor = "nvidia" if request.cuda and request.vendor == "any" else request.vendor
    out = []
    for gpu in candidate_gpus(consumer, infra):
        if status(consumer, gpu) == "unavailable" or not host_ok(consumer, gpu, infra):
            continue
        if vendor not in ("any", gpu.vendor):
            continue
        if wanted and (not gpu.compute_capability or version(gpu.compute_capability) < version(wanted)):
            continue
        out.append(gpu)
    return out


def eligible(consumer: Consumer, infra: Infra) -> list[Gpu]:
    """GPUs the consumer could run on at all, ignoring what else is placed (sorted by `host/gpu`).

    A request with `cuda` runs on NVIDIA GPUs only, and on those its CUDA release runs on."""
    gpus = eligible_but_cuda(consumer, infra)
    if consumer.request.cuda is None:
        return gpus
    return [gpu for gpu in gpus if gpu.vendor == "nvidia" and cuda_failure(consumer, gpu) is None]


def excluded_by_cuda(consumer: Consumer, infra: Infra, failing: str) -> list[Gpu]:
    """The GPUs only the consumer's `gpu.cuda` keeps it from, for what they fail (`cuda_failure`)."""
    return [gpu for gpu in eligible_but_cuda(consumer, infra)
            if gpu.vendor == "nvidia" and cuda_failure(consumer, gpu) == failing]


def why_none(consumer: Consumer) -> str:
    """Why no GPU is eligible for the consumer, as placement's findings say it."""
    request = consumer.request
    wanted = []
    if request.vendor != "any":
        wanted.append(request.vendor)
    elif request.cuda:
        wanted.append("nvidia")
    if request.min_compute_capability:
        wanted.append(f"compute capability >= {request.min_compute_capability}")
    if request.cuda:
        wanted.append(f"CUDA {request.cuda}")
    where = f"on host '{consumer.host}'" if consumer.host else f"for target {consumer.target}"
    return f"no available {' '.join(wanted) + ' ' if wanted else ''}GPU {where}"


def eligibility_key(consumer: Consumer) -> tuple:
    """Everything `eligible` and `status` read of a consumer: consumers with equal keys have the same
    eligible GPUs with the same statuses, so placement computes and indexes them once per key
    (10 000 Kubernetes workloads without `host` share one list). Extend it with anything they come to read."""
    request = consumer.request
    return (consumer.host, consumer.target, request.vendor, request.min_compute_capability, request.cuda,
            request.passthrough)


def linked(consumers: Iterable[Consumer], key_of: Callable[[Consumer], tuple],
           eligible_of: Callable[[Consumer], Iterable[Gpu]],
           pinned: Callable[[Consumer], Gpu | None]) -> tuple[Callable[[str], str], list[str]]:
    """Consumers joined through the GPUs they may use or are pinned to (a union-find of "c:NAME" and
    "g:GPU" nodes): its find, and every node in sorted order. Consumers of one eligibility key see the
    same GPUs, so those are joined once per key, not per consumer."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    joined: set[tuple] = set()
    for consumer in consumers:
        key = key_of(consumer)
        root = find("k:" + repr(key))
        parent[find("c:" + consumer.name)] = root
        if key not in joined:
            joined.add(key)
            for gpu in eligible_of(consumer):
                parent[find("g:" + gpu.key)] = find(root)
        pin = pinned(consumer)
        if pin is not None:
            parent[find("g:" + pin.key)] = find(root)
    return find, sorted(parent)
