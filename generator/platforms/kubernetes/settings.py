"""`global.kubernetes`, as written: the settings of the Kubernetes platform that the model does not carry.

`version` (default 1.34), `base` (default `k8s`), `gpu_api` (`device-plugin`
or `dra`, default `device-plugin`), `context` (the kubeconfig context of
apply's kubectl commands, default kubectl's current one) and
`create_namespaces` (default true). The schema checks their types; these
functions give the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_VERSION = "1.34"
DEFAULT_BASE = "k8s"
DEVICE_PLUGIN = "device-plugin"
DRA = "dra"
DRA_SINCE = (1, 34)         # resource.k8s.io/v1, Dynamic Resource Allocation GA (Kubernetes 1.34)


def of(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The `global.kubernetes` mapping of an infra.yml document (empty when not written)."""
    return (data.get("global") or {}).get("kubernetes") or {}


def version(data: Mapping[str, Any]) -> str:
    return str(of(data).get("version", DEFAULT_VERSION))


def version_tuple(data: Mapping[str, Any]) -> tuple[int, int]:
    major, minor = version(data).split(".")
    return int(major), int(minor)


def gpu_api(data: Mapping[str, Any]) -> str:
    return str(of(data).get("gpu_api", DEVICE_PLUGIN))


def context(data: Mapping[str, Any]) -> str | None:
    value = of(data).get("context")
    return str(value) if value is not None else None


def create_namespaces(data: Mapping[str, Any]) -> bool:
    return of(data).get("create_namespaces", True) is not False


def base(data: Mapping[str, Any]) -> str:
    return str(of(data).get("base", DEFAULT_BASE))
