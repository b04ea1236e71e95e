"""A service psot places already chooses GPUs in the user's compose file: psot's override replaces that choice.

A base that reserves `count: all` (the usual single-GPU starting point) or
sets `CUDA_VISIBLE_DEVICES` / `NVIDIA_VISIBLE_DEVICES` says something psot's
placement contradicts. The override replaces the reservation (Docker Compose
v2: `!override`); a GPU variable in the base would renumber or hide the GPU
the container gets, whose devices are numbered from 0 inside it.

Fix::

    Remove the reservation and the GPU variables from the service in your
    compose file: psot's override chooses its GPU.

Passing::

    project_name: t
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx: {vendor: nvidia, vram_gb: 12, index: 0}
    workloads:
      llm: {target: compose, host: ws}

Failing::

    # This file is its own compose file here: in practice, your docker-compose.yml.
    project_name: t
    global:
      compose: {file: infra.yml}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx: {vendor: nvidia, vram_gb: 12, index: 0}
    workloads:
      llm: {target: compose, host: ws}
    services:
      llm:
        image: ollama/ollama
        environment: [CUDA_VISIBLE_DEVICES=0]

Finding::

    infra.yml:12:3: warning[COMPOSE005] llm: service 'llm' in infra.yml sets CUDA_VISIBLE_DEVICES (infra.yml:16:19); psot's override chooses its GPU (ws/rtx): remove that from the service
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.compose.base import projects
from generator.rules.base import Context, Problem

CODE = "COMPOSE005"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    for project in projects(ctx.infra):
        for workload in project.workloads:
            consumer = ctx.infra.consumers.get(workload.name)
            base = project.service_file(workload.service)
            if consumer is None or consumer.path != workload.path or base is None:
                continue
            gpus = ctx.gpus_of(consumer)
            said = base.gpu_settings(workload.service)
            if gpus and said:
                yield Problem(f"{workload.name}: service '{workload.service}' in {base.name} {' and '.join(said)}; "
                              f"psot's override chooses its GPU ({', '.join(gpus)}): remove that from the service",
                              workload.path, at="key")
