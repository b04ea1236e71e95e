"""A host's compose command runs a compose runtime psot knows: Docker Compose v2, podman-compose or `podman compose`.

The GPU override takes the form its runtime honours: Docker Compose v2
replaces the base's reservation with `!override`, podman-compose turns only
NVIDIA reservations into devices, and `podman compose` acts on CDI device
names alone. With a command psot cannot place among them it cannot say
what the override will mean, so it refuses to guess.

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

    infra.yml:7:24: error[COMPOSE003] host 'ws': compose command 'nerdctl compose' runs no compose runtime psot knows (Docker Compose v2, podman-compose, podman compose); write docker compose, podman-compose or podman compose
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.platforms.compose.base import projects
from generator.platforms.compose.runtime import RUNTIMES, runtime_of
from generator.rules.base import Context, Problem
from generator.rules.compose_command import problem, words
from generator.rules.incus_config_keys import shown

CODE = "COMPOSE003"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for project in projects(ctx.infra):
        command = project.settings.command
        if problem(command) is not None and project.settings.command_path == ("global", "compose", "command"):
            continue   # COMPOSE002 says why it cannot be run
        if problem(command) is not None:
            yield Problem(f"host '{project.host}': compose command '{shown(command)}' {problem(command)}",
                          project.settings.command_path)
            continue
        if runtime_of(words(command)) is None:
            known = ", ".join(r.name for r in RUNTIMES)
            yield Problem(f"host '{project.host}': compose command '{shown(command)}' runs no compose runtime "
                          f"psot knows ({known}); write docker compose, podman-compose or podman compose",
                          project.settings.command_path or ("hosts", project.host))
