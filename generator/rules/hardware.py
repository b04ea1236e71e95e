"""Shared by the driver and storage rules: how GPUs, architectures and sizes are named.

Not a rule (it defines no CODE).
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import drivers
from generator.model.core import Gpu, Infra
from generator.placement.core import fmt_gb

_ARCHITECTURE_NAMES = {"ada": "Ada Lovelace"}


def architecture_name(arch: str) -> str:
    """`blackwell` -> `Blackwell`, `ada` -> `Ada Lovelace`: how NVIDIA names the generation."""
    return _ARCHITECTURE_NAMES.get(arch, arch.capitalize())


def gpu_name(gpu: Gpu) -> str:
    """`pve/rtx-5070-ti (GeForce RTX 5070 Ti)`, or the key alone when no model is given."""
    return f"{gpu.key} ({gpu.model})" if gpu.model else gpu.key


def judged_gpus(infra: Infra) -> Iterator[tuple[Gpu, drivers.Assessment]]:
    """Every GPU whose driver the table can judge, in the order infra.yml lists them."""
    for host_name, host in (infra.data.get("hosts") or {}).items():
        for gpu_key in ((host or {}).get("gpus") or {}):
            gpu = infra.gpus[f"{host_name}/{gpu_key}"]
            assessment = drivers.assess(gpu.vendor, gpu.architecture, gpu.compute_capability, gpu.driver)
            if assessment is not None:
                yield gpu, assessment


def driver_path(gpu: Gpu) -> tuple:
    return gpu.path + ("driver",)


def fmt_size(gb: float) -> str:
    """A size given in GB as people read it: 2 -> '2 GB', 0.5 -> '500 MB', 0.000028 -> '28 KB'."""
    if gb >= 1 or gb <= 0:
        return f"{fmt_gb(max(gb, 0.0))} GB"
    if gb >= 0.001:
        return f"{fmt_gb(gb * 1000)} MB"
    return f"{fmt_gb(gb * 1_000_000)} KB"
