"""Which GPUs a consumer may run on at all, before anything else is placed.

A consumer that names a `host` runs there, whatever its platform; one that
names none (an Incus machine, a Kubernetes workload without `host`) may use
the hosts whose `platform` its platform places on (the registry's
`host_platforms`, generator/platforms). Of those GPUs, the request's vendor
and minimum compute capability keep the ones it can use. Placement and the
rules that judge requests (FIT003, FIT004, VRAM003) ask the same functions,
so they cannot disagree.
"""

from __future__ import annotations

from generator.hardware.tables import version
from generator.model.core import Consumer, Gpu, Infra
from generator.platforms import PLATFORMS


def host_ok(consumer: Consumer, gpu: Gpu, infra: Infra) -> bool:
    """Whether the GPU's host is one the consumer may run on."""
    if consumer.host is not None:
        return gpu.host == consumer.host
    return infra.hosts[gpu.host].platform in PLATFORMS[consumer.target].host_platforms


def candidate_gpus(consumer: Consumer, infra: Infra) -> tuple[Gpu, ...] | list[Gpu]:
    """Only the GPUs of the consumer's host when it names one, so placement stays linear in hosts."""
    if consumer.host is not None:
        host = infra.hosts.get(consumer.host)
        return host.gpus if host is not None else ()
    return list(infra.gpus.values())


def eligible(consumer: Consumer, infra: Infra) -> list[Gpu]:
    """GPUs the consumer could run on at all, ignoring what else is placed (sorted by `host/gpu`)."""
    request = consumer.request
    wanted = request.min_compute_capability
    out = []
    for gpu in candidate_gpus(consumer, infra):
        if gpu.status == "unavailable" or not host_ok(consumer, gpu, infra):
            continue
        if request.vendor not in ("any", gpu.vendor):
            continue
        if wanted and (not gpu.compute_capability or version(gpu.compute_capability) < version(wanted)):
            continue
        out.append(gpu)
    return out


def why_none(consumer: Consumer) -> str:
    """Why no GPU is eligible for the consumer, as placement's findings say it."""
    request = consumer.request
    wanted = []
    if request.vendor != "any":
        wanted.append(request.vendor)
    if request.min_compute_capability:
        wanted.append(f"compute capability >= {request.min_compute_capability}")
    where = f"on host '{consumer.host}'" if consumer.host else f"for target {consumer.target}"
    return f"no available {' '.join(wanted) + ' ' if wanted else ''}GPU {where}"
