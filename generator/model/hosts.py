"""What a host of infra.yml declares besides its GPUs: storage pools, Kubernetes node labels and taints.

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
