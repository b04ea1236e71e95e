"""The user's own compose files, read as an input: which services they define, and what those services
already say about GPUs.

Each file is read with psot's loader (generator/load/loader.py: safe, bounded, with the position of
every key), relative to infra.yml's directory. That loader refuses YAML tags on collections, so a
base that uses Compose's merge tags (`!override`, `!reset`) itself is reported as unreadable. A file
is read once per content: the rules of one run ask for it several times.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.diagnostics.findings import Diagnostics
from generator.load import loader
from generator.model.core import Infra
from generator.model.hosts import ComposeSettings, compose_settings
from generator.model.workloads import Workload

# The variables that choose GPUs inside a container: a base that sets them fights psot's choice.
GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")


@dataclass(frozen=True)
class BaseFile:
    """One compose file: its services (name -> spec), or why it cannot be read (`error`, with its place)."""
    name: str                          # as infra.yml writes it
    services: Mapping[str, Any]
    document: loader.Document | None
    error: str | None = None

    def where(self, *path: Any) -> str:
        """`file:line:col` of a key of the file."""
        if self.document is None:
            return self.name
        file, line, column = self.document.locate(tuple(path), at="key")
        return f"{self.name}:{line}:{column}"

    def gpu_settings(self, service: str) -> list[str]:
        """What the service already says about GPUs: a device reservation, a GPU variable; with their place."""
        spec = self.services.get(service)
        if not isinstance(spec, Mapping):
            return []
        found = []
        devices = _at(spec, "deploy", "resources", "reservations", "devices")
        if isinstance(devices, list) and devices:
            found.append(f"reserves GPUs (deploy.resources.reservations.devices, "
                         f"{self.where('services', service, 'deploy', 'resources', 'reservations', 'devices')})")
        environment = spec.get("environment")
        for variable in GPU_VARIABLES:
            index = _variable(environment, variable)
            if index is not None:
                found.append(f"sets {variable} ({self.where('services', service, 'environment', index)})")
        return found


def _at(spec: Mapping[str, Any], *keys: str) -> Any:
    value: Any = spec
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _variable(environment: Any, name: str) -> str | int | None:
    """The key (mapping form) or index (list form, `NAME=value`) of `name` in a service's environment."""
    if isinstance(environment, Mapping):
        return name if name in environment else None
    if isinstance(environment, list):
        for i, entry in enumerate(environment):
            if isinstance(entry, str) and entry.split("=", 1)[0] == name:
                return i
    return None


def read(project_dir: str, name: str) -> BaseFile:
    """The compose file `name` (relative to `project_dir`, infra.yml's directory)."""
    path = Path(project_dir) / name
    try:
        st = os.stat(path)
    except OSError:
        return _read(str(path), name, None)
    return _read(str(path), name, (st.st_mtime_ns, st.st_size, st.st_ino))


def exists(project_dir: str, name: str) -> bool:
    return os.path.lexists(Path(project_dir) / name)


@functools.lru_cache(maxsize=32)
def _read(path: str, name: str, stamp: tuple[int, int, int] | None) -> BaseFile:
    if stamp is None and not os.path.lexists(path):
        return BaseFile(name, {}, None, "does not exist")
    diag = Diagnostics(default_file=name)
    document = loader.load(Path(path), diag)
    errors = [f for f in diag.findings if f.severity == "error"]
    if document is None or errors:
        first = errors[0] if errors else None
        why = f"cannot be read ({first.line}:{first.column}: {first.message})" if first else "cannot be read"
        return BaseFile(name, {}, None, why)
    data = document.data
    services = data.get("services") if isinstance(data, Mapping) else None
    if not isinstance(services, Mapping):
        return BaseFile(name, {}, document, "has no `services:` mapping")
    return BaseFile(name, services, document)


@dataclass(frozen=True)
class Project:
    """A host's compose project as psot sees it: its settings, its compose workloads, its base files."""
    host: str
    settings: ComposeSettings
    workloads: tuple[Workload, ...]       # in file order
    files: tuple[BaseFile, ...]           # the files read: all written ones, or the default when it exists

    def file_path(self, index: int) -> tuple:
        """Where infra.yml writes the `index`th file (its item, when `file` is a list)."""
        return self.settings.file_path + ((index,) if self.settings.file_listed else ())

    def service_file(self, service: str) -> BaseFile | None:
        """The last file that defines `service` (compose merges the later over the earlier)."""
        return next((f for f in reversed(self.files) if service in f.services), None)


def projects(infra: Infra) -> list[Project]:
    """The compose project of every host that runs compose workloads, by host name."""
    by_host: dict[str, list[Workload]] = {}
    for workload in infra.workloads.values():
        if workload.target == "compose" and workload.host is not None and workload.host in infra.hosts:
            by_host.setdefault(workload.host, []).append(workload)
    out = []
    for host, workloads in sorted(by_host.items()):
        settings = compose_settings(host, infra.hosts[host].spec, infra.data.get("global") or {})
        names = settings.files if settings.file_written else tuple(
            f for f in settings.files if exists(infra.project_dir, f))
        out.append(Project(host, settings, tuple(workloads), tuple(read(infra.project_dir, f) for f in names)))
    return out
