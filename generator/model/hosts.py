"""What a host of infra.yml declares besides its GPUs: storage pools, Kubernetes node labels and taints, and
how it runs its compose project.

Values are kept as written (a size stays the int or float infra.yml gives); a key that is not written
is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Pool:
    """A storage pool of a host (`hosts.<host>.storage.<pool>`)."""
    name: str
    size_gb: float | None
    free_gb: float | None
    path: tuple


@dataclass(frozen=True)
class Taint:
    """A Kubernetes taint of a node (`hosts.<host>.taints[i]`)."""
    key: str
    value: str | None
    effect: str | None
    path: tuple

    @property
    def text(self) -> str:
        """kubectl's form: `key=value:Effect`."""
        text = self.key
        if self.value is not None:
            text += f"={self.value}"
        if self.effect:
            text += f":{self.effect}"
        return text


def pools_of(host: str, spec: Mapping[str, Any]) -> Mapping[str, Pool]:
    """A host's storage pools, in file order."""
    path = ("hosts", host, "storage")
    return MappingProxyType({name: Pool(name, (pool or {}).get("size_gb"), (pool or {}).get("free_gb"), path + (name,))
                             for name, pool in (spec.get("storage") or {}).items()})


def taints_of(host: str, spec: Mapping[str, Any]) -> tuple[Taint, ...]:
    """A host's taints, in file order."""
    return tuple(Taint(taint["key"], taint.get("value"), taint.get("effect"), ("hosts", host, "taints", i))
                 for i, taint in enumerate(spec.get("taints") or []))


# The compose command a host's platform implies when neither the host nor `global.compose` names one.
DEFAULT_COMPOSE_COMMANDS = {"docker": "docker compose", "podman": "podman-compose"}
DEFAULT_COMPOSE_COMMAND = "docker compose"
DEFAULT_COMPOSE_FILE = "docker-compose.yml"


@dataclass(frozen=True)
class ComposeSettings:
    """How a host runs its compose project: `hosts.<host>.compose`, else `global.compose`, else the defaults.

    `command` is as written (apply splits it into words); `files` are relative to infra.yml, in `-f`
    order. `file_written` says whether infra.yml names the files (host or global): then they must
    exist. Each `*_path` is where the value is written in infra.yml, () for a default.
    """
    command: str
    files: tuple[str, ...]
    project_dir: str | None
    file_written: bool
    file_listed: bool                  # `file` is written as a list
    command_path: tuple
    file_path: tuple
    project_dir_path: tuple


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def compose_settings(host: str, spec: Mapping[str, Any], global_section: Mapping[str, Any]) -> ComposeSettings:
    """The compose settings of host `host` (its infra.yml `spec`), under infra.yml's `global` section."""
    own: Mapping[str, Any] = _mapping(spec.get("compose"))
    shared: Mapping[str, Any] = _mapping(global_section.get("compose"))

    def pick(key: str) -> tuple[Any, tuple]:
        if own.get(key) is not None:
            return own[key], ("hosts", host, "compose", key)
        if shared.get(key) is not None:
            return shared[key], ("global", "compose", key)
        return None, ()

    command, command_path = pick("command")
    files, file_path = pick("file")
    project_dir, project_dir_path = pick("project_dir")
    platform = spec.get("platform")
    if command is None:
        command = DEFAULT_COMPOSE_COMMANDS.get(platform, DEFAULT_COMPOSE_COMMAND) if isinstance(platform, str) \
            else DEFAULT_COMPOSE_COMMAND
    listed = (files,) if isinstance(files, str) else tuple(files or ())
    return ComposeSettings(str(command), listed or (DEFAULT_COMPOSE_FILE,), project_dir, bool(listed),
                           isinstance(files, list), command_path, file_path, project_dir_path)
