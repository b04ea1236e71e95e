"""A `pin` names exactly one GPU of the inventory (`gpu` or `host/gpu`).

A pin ties a consumer to one GPU of the inventory: by the GPU's name when no
other host has a GPU of that name, else as host/gpu. A pin that names no GPU,
or several, says nothing placement could follow. A pin that names none is told
the GPUs it could name (the closest one first when there is one close), as
`psot place --without` is (REF005).

Fix::

    Correct the GPU name, as the message suggests, or write it as host/gpu when
    several hosts have a GPU of that name.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
    workloads:
      llm: {target: compose, host: ws, gpu: {pin: rtx-a5500}}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        gpus:
          rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      llm: {target: compose, host: ws, gpu: {pin: rtx-5500}}

Finding::

    infra.yml:10:47: error[REF002] llm: pin 'rtx-5500' names no GPU in hosts; did you mean 'rtx-a5500'? one of: ws/rtx-a400, ws/rtx-a5500
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model.core import match_pin
from generator.rules.base import Context, Problem, gpu_choices

CODE = "REF002"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    gpus = ctx.infra.gpus
    for consumer in ctx.consumers():
        pin = consumer.request.pin
        if pin is None or pin.startswith("pci:"):
            continue  # a PCI address in an Incus device needs no inventory entry
        matches = match_pin(pin, consumer.host, gpus)
        path = consumer.request.path + ("pin",)
        if not matches:
            yield Problem(f"{consumer.name}: pin '{pin}' names no GPU in hosts" + gpu_choices(pin, gpus), path)
        elif len(matches) > 1:
            yield Problem(f"{consumer.name}: pin '{pin}' matches {', '.join(matches)}; write it as host/gpu", path)
