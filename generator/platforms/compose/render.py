"""Docker/Podman Compose: one GPU override file per host (seed 001's shape).

`compose/<host>/docker-compose.gpu-override.yml` is merged over the user's
own compose file (`docker compose -f docker-compose.yml -f <override> …`).
Each GPU service gets `deploy.resources.reservations.devices` and, when it
has a VRAM budget, the budget variable in `environment`.

Devices, as each vendor's container runtime expects them (the vendor rows of
generator/hardware: `compose_driver`, and the CDI device name or the index):
- NVIDIA: `driver: nvidia`, `device_ids` = the CUDA index (NVIDIA Container
  Toolkit, seed 001).
- AMD: `driver: cdi`, `device_ids` = `amd.com/gpu=<index>`, the CDI device
  names the AMD Container Toolkit generates (its recommended injection path;
  Docker's CDI driver ignores `capabilities`, which Compose still requires).
- Intel: `driver: cdi`, `device_ids` = `intel.com/gpu=card<index>`, the
  CDI names of Intel's GPU spec generator (one per /dev/dri/cardN).
"""

from __future__ import annotations

from typing import Any

from generator.hardware import tables
from generator.model.core import Gpu, Infra
from generator.placement.core import Placement, fmt_gb
from generator.serialize import exact_text

OVERRIDE_FILE = "docker-compose.gpu-override.yml"


def devices(gpus: list[Gpu]) -> list[dict[str, Any]]:
    """One reservation per runtime driver, GPUs in the order placement chose them."""
    by_driver: dict[str, list[str]] = {}
    for gpu in gpus:
        vendor = tables.vendor(gpu.vendor)
        by_driver.setdefault(vendor.compose_driver, []).append(vendor.compose_device_id(gpu.index))
    return [{"driver": driver, "device_ids": ids, "capabilities": ["gpu"]}
            for driver, ids in sorted(by_driver.items())]


def render(infra: Infra, placement: Placement) -> dict[str, Any]:
    by_host: dict[str | None, dict[str, Any]] = {}
    for name, consumer in infra.consumers.items():
        assignment = placement.assignments[name]
        if consumer.target != "compose" or not assignment.gpus:
            continue
        service: dict[str, Any] = {
            "deploy": {"resources": {"reservations": {
                "devices": devices([infra.gpus[k] for k in assignment.gpus])}}},
        }
        workload = infra.workloads[name]
        env = {k: exact_text(v) for k, v in workload.environment.items()}
        budget = consumer.request.budget
        if budget is not None and assignment.budget_gb is not None:
            env[budget.env] = fmt_gb(assignment.budget_gb)
        if env:
            service["environment"] = [f"{k}={v}" for k, v in sorted(env.items())]
        by_host.setdefault(consumer.host, {})[workload.service] = service
    return {
        f"compose/{host}/{OVERRIDE_FILE}": {"services": dict(sorted(services.items()))}
        for host, services in sorted(by_host.items())
    }
