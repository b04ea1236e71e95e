"""A `gputype: mig` device is given a GPU that has no MIG, or whose driver predates MIG on it.

Placement chooses the card an Incus machine's `gpu` device names, and the
device keeps its `gputype`. A MIG device only works on a card with
Multi-Instance GPU (A100, A30, H100, H200, B200, RTX PRO 6000 Blackwell…)
and a driver that enables it there; on any other card incusd starts the
instance and fails to find the MIG instance. psot knows MIG from its hardware
tables (generator/hardware/nvidia.py, NVIDIA's MIG User Guide, "Supported
GPUs" and "Deployment Considerations"): only compute capabilities 8.0, 9.0,
10.0 and 12.0 have MIG products (no Ada card, no GA10x Ampere), and a product
the tables list by `pci_id` has MIG or not, with the first driver that
supports it. A card the tables cannot place is not judged.

Fix::

    Give the machine a MIG-capable GPU (`gpu.pin`), or let the device pass the
    whole card (`gputype: physical`); for a driver below MIG's minimum,
    install that driver or newer.

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          a100-slice:
            devices:
              gpu: {type: gpu, gputype: mig, mig.uuid: MIG-2f7c0e1a-0000-0000-0000-000000000001}
        machines:
          llm: {type: lxc, profiles: [default, a100-slice], gpu: {pin: a100}}
    hosts:
      lab:
        platform: incus
        gpus:
          a100: {vendor: nvidia, model: A100 80GB PCIe, vram_gb: 80, pci: "0000:41:00.0", pci_id: "10de:20b5", driver: "535.183.01"}

Failing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          a100-slice:
            devices:
              gpu: {type: gpu, gputype: mig, mig.uuid: MIG-2f7c0e1a-0000-0000-0000-000000000001}
        machines:
          llm: {type: lxc, profiles: [default, a100-slice], gpu: {pin: rtx-4090}}
    hosts:
      lab:
        platform: incus
        gpus:
          rtx-4090: {vendor: nvidia, model: GeForce RTX 4090, vram_gb: 24, pci: "0000:41:00.0", architecture: ada, driver: "535.183.01"}

Finding::

    infra.yml:8:37: error[INC007] machine 'llm': profile 'a100-slice' device 'gpu' is gputype 'mig', but placement gave it lab/rtx-4090 (GeForce RTX 4090), which has no MIG (Ada Lovelace); pin the machine to a MIG-capable GPU (A100, A30, H100, H200, B200, RTX PRO 6000 Blackwell), or use gputype physical to pass the whole card
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import driver_status, nvidia, tables
from generator.hardware.rows import Architecture
from generator.model.core import Gpu
from generator.model.incus import expanded_devices
from generator.platforms import incus
from generator.rules.base import Context, Problem
from generator.rules.host_driver import gpu_name

CODE = "INC007"
SEVERITY = "error"
STAGE = "placement"

MIG_CAPABLE = "A100, A30, H100, H200, B200, RTX PRO 6000 Blackwell"


def check(ctx: Context) -> Iterator[Problem]:
    domains = ctx.infra.data.get("domains") or {}
    for consumer in ctx.consumers():
        if consumer.target != incus.NAME or consumer.domain is None or not ctx.gpus_of(consumer):
            continue
        domain = domains.get(consumer.domain) or {}
        machine = (domain.get("machines") or {}).get(consumer.name) or {}
        expanded = expanded_devices(consumer.domain, domain, consumer.name, machine)
        for device_name, (path, device) in sorted(expanded.items()):
            if not isinstance(device, dict) or device.get("type") != "gpu" or device.get("gputype") != "mig":
                continue
            owner = "" if path[2] == "machines" else f"{path[2][:-1]} '{path[3]}' "
            for key in ctx.gpus_of(consumer):
                reason = _why_not(ctx.infra.gpus[key])
                if reason is not None:
                    yield Problem(f"machine '{consumer.name}'{':' if owner else ''} {owner}device '{device_name}' is "
                                  "gputype 'mig', but "
                                  f"placement gave it {gpu_name(ctx.infra.gpus[key])}, {reason}",
                                  path + ("gputype",))


def _why_not(gpu: Gpu) -> str | None:
    """Why the GPU cannot carry a MIG device, with what to do; None when it can or psot cannot tell."""
    if gpu.vendor != "nvidia":
        return ("which is not an NVIDIA GPU and has no MIG; pin the machine to a MIG-capable GPU "
                f"({MIG_CAPABLE}), or use gputype physical to pass the whole card")
    product = tables.sku(gpu.vendor, gpu.pci_id) if gpu.pci_id else None
    row = driver_status.architecture_of(gpu.vendor, gpu.architecture, gpu.compute_capability) or (
        tables.by_pci_id(gpu.vendor, gpu.pci_id) if gpu.pci_id else None)
    if product is not None and product.mig_instances is not None:
        minimum = product.mig_minimum_driver
        if minimum and gpu.driver and tables.version(gpu.driver) < tables.version(minimum):
            return (f"whose driver {gpu.driver} predates MIG on the {product.name} ({minimum}); install driver "
                    f"{minimum} or newer")
        return None
    if product is None and not _no_mig_capability(gpu, row):
        return None
    kind = f" ({row.display})" if row is not None else ""
    return (f"which has no MIG{kind}; pin the machine to a MIG-capable GPU ({MIG_CAPABLE}), or use gputype "
            "physical to pass the whole card")


def _no_mig_capability(gpu: Gpu, row: Architecture | None) -> bool:
    """Whether the GPU's compute capability, or every one of its architecture's, is one no MIG product has."""
    if gpu.compute_capability:
        return tables.version(gpu.compute_capability)[:2] not in nvidia.MIG_COMPUTE_CAPABILITIES
    if row is None or row.compute_capability is None:
        return False
    low, high = row.compute_capability
    return not any(low <= cc <= high for cc in nvidia.MIG_COMPUTE_CAPABILITIES)
