"""What the rules on a host's NVIDIA driver stack (DRV001-DRV010) share: which GPUs that driver serves.

A GPU passed through to a VM is bound to vfio-pci: the host's `nvidia.ko`
never touches it (the guest brings its own driver), so no rule on the host's
driver judges it. It is the VM's when detect found it on vfio-pci
(`driver_in_use`), when a passthrough consumer is pinned to it, and, once
placement is known, when placement gave it to one. The rules of the model
stage, which run before placement, know the first two.
"""

from __future__ import annotations

from generator.model.core import Gpu
from generator.rules.base import Context


def passed_through(ctx: Context) -> set[str]:
    """The `host/gpu` keys of the GPUs a VM holds through vfio-pci, as far as the context knows them."""
    keys = {key for key, gpu in ctx.infra.gpus.items() if gpu.driver_in_use == "vfio-pci"}
    for consumer in ctx.consumers():
        if consumer.request.passthrough:
            if consumer.request.pin_gpu is not None:
                keys.add(consumer.request.pin_gpu)
            keys.update(ctx.gpus_of(consumer))
    return keys


def host_nvidia_gpus(ctx: Context, host: str, exempt: set[str]) -> list[Gpu]:
    """The host's NVIDIA GPUs that its driver serves (not in `exempt`), in the order infra.yml lists them."""
    return [gpu for gpu in ctx.infra.hosts[host].listed if gpu.vendor == "nvidia" and gpu.key not in exempt]


def gpu_name(gpu: Gpu) -> str:
    """`pve/rtx-5070-ti (GeForce RTX 5070 Ti)`, or the key alone when no model is given."""
    return f"{gpu.key} ({gpu.model})" if gpu.model else gpu.key


def fallback(ctx: Context, gpu: Gpu, exempt: set[str]) -> str:
    """`its workloads fall back to pve/gtx-970 (GeForce GTX 970)`: the host's other GPUs its driver serves."""
    others = [g for g in ctx.infra.hosts[gpu.host].listed
              if g.key != gpu.key and g.key not in exempt and g.status != "unavailable"]
    if others:
        told = "its workloads fall back to " + ", ".join(gpu_name(g) for g in others)
    else:
        told = f"no other GPU of host '{gpu.host}' can take its workloads"
    vms = [c.name for c in ctx.consumers() if c.request.passthrough and c.request.pin_gpu is None
           and c.host in (None, gpu.host)]
    if vms:
        # Before placement a rule cannot know which card an unpinned VM gets: say that the VM is not affected.
        told += (f" (a VM it is passed through to keeps it: {', '.join(sorted(vms))} may get it through vfio-pci, "
                 "with the guest's own driver; pin the VM to it to say so)")
    return told
