"""What a compose workload asks of its GPU can be written for its host's compose runtime.

Each runtime honours a different part of the compose file. CDI devices
(AMD and Intel everywhere; NVIDIA under podman-compose and `podman
compose`) carry no capabilities: the CDI devices file the vendor's toolkit generated
decides which driver libraries the container gets, so a `gpu.capabilities`
other than `[gpu]` or `[all]` would be silently dropped. podman-compose
cannot replace a reservation the user's compose file already makes (its
`!override` cannot hold a list of mappings), and has no
`--project-directory`.

Fix::

    Remove `gpu.capabilities` (the CDI devices file grants what the toolkit
    put in it), or run the host's services with `docker compose`; under
    podman-compose, remove the service's `deploy.resources.reservations`
    from your compose file, and drop `project_dir`.

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
      plex: {target: compose, host: ws, gpu: {vram_gb: 1, capabilities: [gpu, video]}}

Failing::

    project_name: t
    global: {}
    domains: {}
    hosts:
      ws:
        platform: podman
        gpus:
          rtx: {vendor: nvidia, vram_gb: 12, index: 0}
    workloads:
      plex: {target: compose, host: ws, gpu: {vram_gb: 1, capabilities: [gpu, video]}}

Finding::

    infra.yml:10:55: error[COMPOSE006] plex: podman-compose passes ws/rtx as a CDI device (nvidia.com/gpu=0), which carries no capabilities: video would be dropped; remove gpu.capabilities (the CDI devices file decides what the container gets) or run host 'ws' with docker compose
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.hardware import tables
from generator.platforms.compose.base import projects
from generator.platforms.compose.render import capabilities, cdi_name, runtime_of_host
from generator.rules.base import Context, Problem

CODE = "COMPOSE006"
SEVERITY = "error"
STAGE = "placement"

CARRIED = ({"gpu"}, {"all"}, {"gpu", "all"})   # what a CDI device gives anyway


def check(ctx: Context) -> Iterator[Problem]:
    infra = ctx.infra
    for project in projects(infra):
        runtime = runtime_of_host(infra, project.host)
        if project.settings.project_dir is not None and not runtime.project_directory:
            yield Problem(f"host '{project.host}': {runtime.name} has no --project-directory (it takes the "
                          "directory of the first compose file); drop project_dir, or move your compose file there",
                          project.settings.project_dir_path)
        for workload in project.workloads:
            consumer = infra.consumers.get(workload.name)
            if consumer is None or consumer.path != workload.path:
                continue
            gpus = [infra.gpus[k] for k in ctx.gpus_of(consumer)]
            base = project.service_file(workload.service)
            if gpus and base is not None and not runtime.override_tag and runtime.reservations and any(
                    s.startswith("reserves") for s in base.gpu_settings(workload.service)):
                yield Problem(f"{workload.name}: service '{workload.service}' in {base.name} reserves GPUs, and "
                              f"{runtime.name} cannot replace a reservation from an override (it would add psot's "
                              "GPU to it); remove deploy.resources.reservations from the service there",
                              workload.path, at="key")
            asked = capabilities(consumer)
            if set(asked) in CARRIED:
                continue
            for gpu in gpus:
                nvidia = tables.vendor(gpu.vendor).cdi_device is None
                if nvidia and runtime.reservations and runtime.override_tag:
                    continue   # Docker's nvidia driver takes the capabilities
                dropped = ", ".join(c for c in asked if c not in ("gpu", "all"))
                yield Problem(f"{workload.name}: {runtime.name} passes {gpu.key} as a CDI device ({cdi_name(gpu)}), "
                              f"which carries no capabilities: {dropped} would be dropped; remove gpu.capabilities "
                              f"(the CDI devices file decides what the container gets)"
                              + (f" or run host '{project.host}' with docker compose" if nvidia else ""),
                              consumer.request.path + ("capabilities",))
                break
