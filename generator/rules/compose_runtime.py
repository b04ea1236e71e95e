"""A host's compose command runs a compose runtime psot knows; otherwise the override is written for Docker Compose v2.

The GPU override takes the form its runtime honours: Docker Compose v2
replaces the base's reservation with `!override`, podman-compose turns only
NVIDIA reservations into devices, and `podman compose` acts on CDI device
names alone. With a command psot cannot place among them (a wrapper
script of your own) it cannot say what the override will mean: it writes
Docker Compose v2's form and says so.

Fix::

    Write the command as it is run: `docker compose` (or `docker-compose`),
    `podman-compose`, or `podman compose`, optionally after a wrapper such
    as `sudo`; or leave it out to take the host platform's default.

Passing::

    project_name: t
    global: {}
    domains: {}
    hosts:
      ws:
        platform: podman
        compose: {command: podman-compose}
        gpus:
          rtx: {vendor: nvidia, vram_gb: 12, index: 0}
    workloads:
      llm: {target: compose, host: ws}

Failing::

    project_name: t
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        compose: {command: nerdctl compose}
        gpus:
          rtx: {vendor: nvidia, vram_gb: 12, index: 0}
    workloads:
      llm: {target: compose, host: ws}

Finding::

    infra.yml:7:24: warning[COMPOSE003] host 'ws': compose command 'nerdctl compose' runs no compose runtime psot knows (Docker Compose v2, podman-compose, podman compose), so the override is written for Docker Compose v2; write docker compose, podman-compose or podman compose to choose
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.compose.base import projects
from generator.platforms.compose.runtime import RUNTIMES, runtime_of
from generator.rules.base import Context, Problem
from generator.rules.compose_command import problem, words
from generator.rules.incus_config_keys import shown

CODE = "COMPOSE003"
SEVERITY = "warning"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for project in projects(ctx.infra):
        command = project.settings.command
        if problem(command) is not None:
            continue   # COMPOSE002 says why it cannot be run
        if runtime_of(words(command)) is None:
            known = ", ".join(r.name for r in RUNTIMES)
            yield Problem(f"host '{project.host}': compose command '{shown(command)}' runs no compose runtime "
                          f"psot knows ({known}), so the override is written for Docker Compose v2; write docker compose, "
                          "podman-compose or podman compose to choose",
                          project.settings.command_path or ("hosts", project.host))
