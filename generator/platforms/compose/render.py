"""Docker/Podman Compose: one GPU override file per host (seed 001's shape), in its runtime's form.

`compose/<host>/docker-compose.gpu-override.yml` is merged over the user's own compose files
(`<command> -f <file>… -f <override> …`). Each GPU service gets its GPUs, and, when it has a VRAM
budget, the budget variable in `environment`. How the GPUs are written depends on the host's runtime
(generator/platforms/compose/runtime.py):

- Docker Compose v2: `deploy.resources.reservations.devices: !override [...]`, so the base's own
  reservation (often `count: all`) is replaced, not added to. NVIDIA: `driver: nvidia`, `device_ids`
  the GPU's UUID when the inventory has it (NVIDIA documents indexes as not stable across reboots),
  else its index, and `capabilities` from `gpu.capabilities` (default `[gpu]`). AMD and Intel:
  `driver: cdi`, `device_ids` the CDI names of their container toolkits (`amd.com/gpu=<index>`,
  `intel.com/gpu=card<index>`), `capabilities: [gpu]` (Docker's CDI driver ignores it; Compose
  requires it).
- podman-compose: NVIDIA in a plain reservation (podman-compose makes it `--device
  nvidia.com/gpu=<id>`); AMD and Intel as CDI names in the service's `devices:`.
- `podman compose`: every GPU as a CDI name in the service's `devices:` (`nvidia.com/gpu=<uuid>`).

Every device entry carries a comment naming the GPU (its model, then `host/gpu`). YAML has no
comments as data, so the file is written here as text, each value quoted as serialize's writer would
quote it (every YAML 1.1 and 1.2 reader reads a string); psot reads it back with the tags
(generator/serialize.py load_yaml).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from generator.diagnostics.findings import one_line
from generator.hardware import tables
from generator.model.core import Consumer, Gpu, Infra
from generator.model.hosts import compose_settings
from generator.placement.core import Placement, fmt_gb
from generator.platforms.compose.runtime import DOCKER, Runtime, runtime_of
from generator.serialize import TextFile, dump_yaml, exact_text

OVERRIDE_FILE = "docker-compose.gpu-override.yml"
DEFAULT_CAPABILITIES = ("gpu",)


def scalar(value: str) -> str:
    """`value` as one YAML scalar, quoted when a reader could take it for anything but this string."""
    text = dump_yaml([value])
    # A value the writer would fold over several lines is written as a JSON string: YAML reads it the same.
    return text[2:-1] if text.count("\n") == 1 else json.dumps(value)


def runtime_of_host(infra: Infra, host: str) -> Runtime:
    """The host's compose runtime (Docker Compose v2 when its command names none: COMPOSE003 says so)."""
    spec = infra.hosts[host].spec if host in infra.hosts else {}
    settings = compose_settings(host, spec, infra.data.get("global") or {})
    try:
        words = shlex.split(settings.command)
    except ValueError:
        return DOCKER
    return runtime_of(words) or DOCKER


def capabilities(consumer: Consumer) -> tuple[str, ...]:
    """`gpu.capabilities` as written (the schema keeps them unique), default `[gpu]`."""
    request = consumer.spec.get("gpu")
    asked = request.get("capabilities") if isinstance(request, Mapping) else None
    return tuple(asked) if isinstance(asked, list) and asked else DEFAULT_CAPABILITIES


def nvidia_id(gpu: Gpu) -> str:
    """The stable name of an NVIDIA GPU: its UUID when known, else its index."""
    return gpu.uuid or str(gpu.index)


def cdi_name(gpu: Gpu) -> str:
    """The GPU's CDI device name (`nvidia.com/gpu=GPU-…`, `amd.com/gpu=1`, `intel.com/gpu=card0`)."""
    vendor = tables.vendor(gpu.vendor)
    if vendor.cdi_device is None:
        return f"{vendor.cdi_kind}={nvidia_id(gpu)}"
    return vendor.compose_device_id(gpu.index)


def comment(gpu: Gpu) -> str:
    return "  # " + one_line(f"{gpu.model} ({gpu.key})" if gpu.model else gpu.key)


def _reservation_lines(runtime: Runtime, gpus: list[Gpu], caps: tuple[str, ...]) -> list[str]:
    """The `deploy.resources.reservations.devices` entries, one per runtime driver, GPUs in placement order."""
    by_driver: dict[str, list[tuple[str, Gpu]]] = {}
    for gpu in gpus:
        vendor = tables.vendor(gpu.vendor)
        if vendor.cdi_device is None and runtime.reservations:
            by_driver.setdefault(vendor.compose_driver, []).append((nvidia_id(gpu), gpu))
        elif runtime.vendor_cdi_reservation:
            by_driver.setdefault(vendor.compose_driver, []).append((cdi_name(gpu), gpu))
    if not by_driver:
        return []
    tag = " !override" if runtime.override_tag else ""
    lines = ["    deploy:", "      resources:", "        reservations:", f"          devices:{tag}"]
    for driver, ids in sorted(by_driver.items()):
        written = caps if driver == "nvidia" else DEFAULT_CAPABILITIES
        lines.append(f"            - driver: {scalar(driver)}")
        lines.append("              device_ids:")
        lines += [f"                - {scalar(name)}{comment(gpu)}" for name, gpu in ids]
        lines.append(f"              capabilities: [{', '.join(scalar(c) for c in written)}]")
    return lines


def _device_lines(runtime: Runtime, gpus: list[Gpu]) -> list[str]:
    """The service's `devices:`: CDI names of the GPUs the runtime does not take from a reservation."""
    names = [(cdi_name(gpu), gpu) for gpu in gpus
             if not (runtime.reservations and tables.vendor(gpu.vendor).cdi_device is None)
             and not (runtime.vendor_cdi_reservation and tables.vendor(gpu.vendor).cdi_device is not None)]
    if not names:
        return []
    return ["    devices:"] + [f"      - {scalar(name)}{comment(gpu)}" for name, gpu in names]


def service_text(runtime: Runtime, name: str, gpus: list[Gpu], caps: tuple[str, ...],
                 environment: list[str]) -> list[str]:
    lines = [f"  {scalar(name)}:"]
    lines += _reservation_lines(runtime, gpus, caps)
    lines += _device_lines(runtime, gpus)
    if environment:
        lines += ["    environment:"] + [f"      - {scalar(entry)}" for entry in environment]
    return lines


def render(infra: Infra, placement: Placement) -> dict[str, Any]:
    by_host: dict[str, dict[str, list[str]]] = {}
    for name, consumer in infra.consumers.items():
        assignment = placement.assignments[name]
        if consumer.target != "compose" or not assignment.gpus or consumer.host is None:
            continue
        workload = infra.workloads[name]
        env = {k: exact_text(v) for k, v in workload.environment.items()}
        budget = consumer.request.budget
        if budget is not None and assignment.budget_gb is not None:
            env[budget.env] = fmt_gb(assignment.budget_gb)
        by_host.setdefault(consumer.host, {})[workload.service] = service_text(
            runtime_of_host(infra, consumer.host), workload.service, [infra.gpus[k] for k in assignment.gpus],
            capabilities(consumer), [f"{k}={v}" for k, v in sorted(env.items())])
    return {
        f"compose/{host}/{OVERRIDE_FILE}": TextFile(
            "\n".join(["services:", *(line for _, lines in sorted(services.items()) for line in lines)]) + "\n")
        for host, services in sorted(by_host.items())
    }
