"""The user's compose files exist and define the service of every compose workload.

The GPU override is merged over the user's own compose files
(`hosts.<host>.compose.file`, else `global.compose.file`). psot reads them
before anything is written: a file that is missing or cannot be read, or a
workload whose service is in none of them, would otherwise fail only inside
compose at apply time (`service has neither an image nor a build context`).
When no file is written in infra.yml, docker-compose.yml beside infra.yml is
read if it exists.

Fix::

    Create the file, or set `file` to the path of your compose file relative
    to infra.yml (a list for several `-f` files); name the service your
    compose file defines in the workload's `service`.

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

    project_name: t
    global:
      compose: {file: docker-compose.prod.yml}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx: {vendor: nvidia, vram_gb: 12, index: 0}
    workloads:
      llm: {target: compose, host: ws}

Finding::

    infra.yml:3:19: error[COMPOSE004] host 'ws': compose file docker-compose.prod.yml does not exist (relative to infra.yml); create it, or set `file` to your compose file
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.compose.base import projects
from generator.rules.base import Context, Problem

CODE = "COMPOSE004"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for project in projects(ctx.infra):
        broken = False
        for i, base in enumerate(project.files):
            if base.error is not None:
                broken = True
                yield Problem(f"host '{project.host}': compose file {base.name} {base.error} (relative to "
                              "infra.yml); " + ("create it, or set `file` to your compose file"
                                                if base.error == "does not exist" else "fix it"),
                              project.file_path(i))
        if broken or not project.files:
            continue
        names = ", ".join(f.name for f in project.files)
        for workload in project.workloads:
            if project.service_file(workload.service) is None:
                yield Problem(f"{workload.name}: service '{workload.service}' is not in {names} (host "
                              f"'{project.host}'); add it there, or set the workload's `service` to one it defines",
                              workload.path, at="key")
