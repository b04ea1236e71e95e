"""Fewer GPUs match a request (vendor, compute capability) on the hosts its consumer can use than its `count`.

The hosts a consumer can use are those placement considers: a
compose or Proxmox workload's `host`; a Kubernetes workload's `host`, or
every `platform: kubernetes` host when it names none; for an Incus
machine, the hosts with `platform: incus` or no platform. GPUs count
whatever their status: an unavailable GPU is a fallback matter (PLACE003,
PLACE006), not a request that can never be met. A pinned GPU counts even
when it does not match (pins win; FIT001 and FIT002 judge it), so a pinned
`count: 1` always passes. A file without GPU inventory (plain AnKLuMe) is
not checked: its machines share the one host GPU.

The finding points at `gpu.count` when some GPUs match but too few: the
count is what to lower. When none match, it points at what rules them all
out: `vendor` when no GPU there is of that vendor, else
`min_compute_capability`, else (no GPU at all) the workload's `host`.
`count: all` asks for at least one.

Fix::

    Lower `gpu.count` to the number of GPUs that match, add matching GPUs to the
    hosts, or relax `vendor` and `min_compute_capability`.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0, compute_capability: "12.0"}
          gtx-1660: {vendor: nvidia, vram_gb: 6, index: 1, compute_capability: "7.5"}
    workloads:
      dev-env: {target: compose, host: pve, gpu: {count: 2, vendor: nvidia}}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        gpus:
          rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0, compute_capability: "12.0"}
          gtx-1660: {vendor: nvidia, vram_gb: 6, index: 1, compute_capability: "7.5"}
    workloads:
      dev-env: {target: compose, host: pve, gpu: {count: 2, vendor: nvidia, min_compute_capability: "8.0"}}

Finding::

    infra.yml:10:54: error[FIT003] dev-env asks for 2 nvidia GPUs with compute capability >= 8.0 but host 'pve' has only 1: pve/rtx-5070-ti; lower gpu.count to 1
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware.tables import version
from generator.model.core import Consumer, Gpu, Infra, Request

# The same host rules placement applies, so this rule and placement cannot disagree.
from generator.placement.eligibility import candidate_gpus, host_ok
from generator.platforms import PLATFORMS, Platform
from generator.rules.base import Context, Problem

CODE = "FIT003"
SEVERITY = "error"
STAGE = "model"


def _matches(request: Request, gpu: Gpu) -> bool:
    if request.vendor not in ("any", gpu.vendor):
        return False
    wanted = request.min_compute_capability
    return wanted is None or (gpu.compute_capability is not None
                              and version(gpu.compute_capability) >= version(wanted))


def _wanted(request: Request) -> str:
    """'an nvidia GPU with compute capability >= 8.0', '2 GPUs', ..."""
    vendor = f"{request.vendor} " if request.vendor != "any" else ""
    capability = (f" with compute capability >= {request.min_compute_capability}"
                  if request.min_compute_capability else "")
    if request.count_all:
        return f"every {vendor}GPU{capability} (count: all)"
    if request.count == 1:
        return f"{'an' if vendor else 'a'} {vendor}GPU{capability}"
    return f"{request.count} {vendor}GPUs{capability}"


def _where(consumer: Consumer) -> tuple[str, str, Platform | None]:
    """(the hosts it can use, their verb, the platform whose hosts they are: None for a named host)."""
    if consumer.host is not None:
        return f"host '{consumer.host}'", "has", None
    platform = PLATFORMS[consumer.target]
    return platform.hosts, "have", platform


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    if not infra.gpus:
        return
    for consumer in ctx.consumers():
        if consumer.host is not None and consumer.host not in infra.hosts:
            continue  # REF001
        problem = _unsatisfied(consumer, infra)
        if problem is not None:
            yield problem


def _unsatisfied(consumer: Consumer, infra: Infra) -> Problem | None:
    request = consumer.request
    usable = [g for g in candidate_gpus(consumer, infra) if host_ok(consumer, g, infra)]
    found = sorted({g.key for g in usable if _matches(request, g)} | ({request.pin_gpu} if request.pin_gpu is not None else set()))
    if len(found) >= request.count:
        return None
    asks = f"{consumer.name} asks for {_wanted(request)} but"
    where, has, platform = _where(consumer)
    if found:
        return Problem(f"{asks} {where} {has} only {len(found)}: {', '.join(found)}; "
                       f"lower gpu.count to {len(found)}", request.path + ("count",))
    if platform is not None and not _platform_hosts(infra, platform):
        return Problem(f"{asks} no host has platform: {platform.host_platform_names}; set it on the hosts "
                       f"{consumer.name} may run on", request.path)
    if not usable:
        path = consumer.path + ("host",) if consumer.host is not None else request.path
        return Problem(f"{asks} {where} {has} no GPU; run it where there are GPUs or add them under hosts", path)
    if request.vendor != "any" and not any(g.vendor == request.vendor for g in usable):
        vendors = ", ".join(sorted({g.vendor for g in usable}))
        return Problem(f"{asks} {where} {has} none (only {vendors}); change gpu.vendor or add an "
                       f"{request.vendor} GPU", request.path + ("vendor",))
    seen = ", ".join(f"{g.key}: {g.compute_capability or 'no compute_capability'}"
                     for g in sorted(usable, key=lambda g: g.key) if request.vendor in ("any", g.vendor))
    return Problem(f"{asks} {where} {has} none ({seen}); lower gpu.min_compute_capability or add such a GPU",
                   request.path + ("min_compute_capability",))


def _platform_hosts(infra: Infra, platform: Platform) -> list[str]:
    return [h.name for h in infra.hosts.values() if h.platform in platform.host_platforms]
