"""Kubernetes: a workload is a Deployment, StatefulSet or DaemonSet on the nodes placement picks.

The nodes are the hosts with `platform: kubernetes`; a workload with a
`host` runs on that node. Pods are containers: never a VM, their GPU never
passed through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAME = "kubernetes"
HOST_PLATFORMS: tuple[str | None, ...] = ("kubernetes",)
HOSTS = "the kubernetes nodes (platform: kubernetes)"
WORKLOADS = True
RENDER = "generator.platforms.kubernetes.render:render"
UNITS = "generator.platforms.kubernetes.apply:units"
PROGRAMS = "generator.platforms.kubernetes.apply:programs"
DRIFT: str | None = None    # what changed by hand is not read back from it


def is_vm(spec: Mapping[str, Any]) -> bool:
    return False


def passthrough_default(spec: Mapping[str, Any]) -> bool:
    return False
