"""Docker or Podman Compose: a workload is a service of the user's compose project on its `host`.

The hosts that run Compose say `platform: docker` or `platform: podman`. A
service is a container: never a VM, its GPU never passed through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAME = "compose"
HOST_PLATFORMS: tuple[str | None, ...] = ("docker", "podman")
HOSTS = "the compose hosts (platform: docker or podman)"
WORKLOADS = True
RENDER = "generator.platforms.compose.render:render"
UNITS = "generator.platforms.compose.apply:units"
PROGRAMS = "generator.platforms.compose.apply:programs"
DRIFT: str | None = None    # what changed by hand is not read back from it


def is_vm(spec: Mapping[str, Any]) -> bool:
    return False


def passthrough_default(spec: Mapping[str, Any]) -> bool:
    return False
