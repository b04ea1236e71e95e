"""The NVIDIA GPUs of one host report different driver versions: the inventory is stale.

A host loads one NVIDIA driver, and every GPU it drives reports that
driver's version (nvidia-smi). GPUs of one host with different `driver`
values mean that part of the inventory was written at another time, or
copied from another machine, and the driver rules (DRV001, DRV002, DRV005,
and the CUDA rules DRV007) judge each GPU by its own value, some of them
wrongly. GPUs passed through to a VM run the VM's driver and are left out
(detect found them on vfio-pci, or a passthrough consumer is pinned to
them).

Fix::

    Run `psot detect` on the host and take the driver version it reports, or
    set every GPU's `driver` to the version `nvidia-smi` prints there.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-a5500: {vendor: nvidia, model: RTX A5500, vram_gb: 24, index: 0, architecture: ampere, driver: "575.64.03"}
          rtx-a400: {vendor: nvidia, model: RTX A400, vram_gb: 4, index: 1, architecture: ampere, driver: "575.64.03"}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-a5500: {vendor: nvidia, model: RTX A5500, vram_gb: 24, index: 0, architecture: ampere, driver: "575.64.03"}
          rtx-a400: {vendor: nvidia, model: RTX A400, vram_gb: 4, index: 1, architecture: ampere, driver: "550.144.03"}

Finding::

    infra.yml:9:103: warning[DRV006] host 'ws' runs one NVIDIA driver, but its GPUs report 2 versions: 575.64.03 (rtx-a5500), 550.144.03 (rtx-a400); the inventory is stale. Run psot detect on the host, or set every GPU's driver to the version nvidia-smi prints there
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem
from generator.rules.driver_minimum import driver_path
from generator.rules.host_driver import host_nvidia_gpus, passed_through

CODE = "DRV006"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    exempt = passed_through(ctx)
    for name in ctx.infra.data.get("hosts") or {}:
        gpus = [gpu for gpu in host_nvidia_gpus(ctx, name, exempt) if gpu.driver]
        versions: dict[str, list[str]] = {}
        for gpu in gpus:
            versions.setdefault(str(gpu.driver), []).append(gpu.name)
        if len(versions) < 2:
            continue
        first = next(gpu for gpu in gpus if gpu.driver != gpus[0].driver)
        reported = ", ".join(f"{version} ({', '.join(names)})" for version, names in versions.items())
        yield Problem(f"host '{name}' runs one NVIDIA driver, but its GPUs report {len(versions)} versions: "
                      f"{reported}; the inventory is stale. Run psot detect on the host, or set every GPU's "
                      "driver to the version nvidia-smi prints there", driver_path(first))
