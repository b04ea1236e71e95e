"""The compose runtimes psot writes for, and what each makes of a GPU override.

A host's compose command (`hosts.<h>.compose.command`, generator/model/hosts.py) names its runtime:

- Docker Compose v2 (`docker compose`, `docker-compose`): compose-go merges the override and Docker
  turns `deploy.resources.reservations.devices` into device requests. Lists merge by appending, so a
  base that reserves `count: all` would keep every GPU: the override's `devices: !override [...]`
  replaces the base's list (compose-go's merge tags, measured with Compose 2.40).
- podman-compose (1.6): it turns only `driver: nvidia` reservations whose capabilities hold `gpu` into
  `--device nvidia.com/gpu=<id>` (podman_compose.py, container_to_gpu_res_args) and skips every other
  driver; its `!override` tag cannot carry a list of mappings (OverrideTag keeps YAML nodes, and the
  dry run fails to represent them) and a `!reset` of a key the base lacks leaves a ResetTag that
  container_to_gpu_res_args cannot iterate. So NVIDIA GPUs go in a plain reservation, AMD and Intel
  GPUs as CDI names in the service's `devices:` (podman's `--device` takes CDI names), and a base that
  reserves GPUs itself cannot be overridden (COMPOSE007).
- `podman compose`: podman runs an external compose provider (docker-compose when installed) against
  its Docker-compatible API, which does not act on reservation blocks: every GPU is a CDI name in the
  service's `devices:`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Runtime:
    name: str             # how messages and the README name it
    reservations: bool    # NVIDIA GPUs as deploy.resources.reservations.devices (else CDI names in devices:)
    override_tag: bool    # the reservation replaces the base's with `!override`
    vendor_cdi_reservation: bool   # AMD/Intel as a `driver: cdi` reservation (else CDI names in devices:)
    project_directory: bool        # accepts --project-directory


DOCKER = Runtime("Docker Compose v2", True, True, True, True)
PODMAN_COMPOSE = Runtime("podman-compose", True, False, False, False)
PODMAN_WRAPPER = Runtime("podman compose", False, False, False, True)
RUNTIMES = (DOCKER, PODMAN_COMPOSE, PODMAN_WRAPPER)


def runtime_of(words: list[str]) -> Runtime | None:
    """The runtime a compose command's words run, or None when psot does not know it.

    The first word that names a known program decides (`sudo docker compose` is Docker's);
    `docker` and `podman` must be followed by `compose`.
    """
    for i, word in enumerate(words):
        program = os.path.basename(word)
        following = words[i + 1] if i + 1 < len(words) else None
        if program == "docker-compose":
            return DOCKER
        if program == "podman-compose":
            return PODMAN_COMPOSE
        if program in ("docker", "podman"):
            if following != "compose":
                return None
            return DOCKER if program == "docker" else PODMAN_WRAPPER
    return None
