"""The `type: gpu` devices of infra.yml's Incus profiles and machines, as the INC rules see them.

Not a rule (it defines no CODE): the shared reading of devices, option by
option as Incus reads them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from generator.model import gpu_devices

GPUTYPES = ("physical", "mdev", "mig", "sriov")


VM_ONLY = ("mdev", "sriov")


CONTAINER_ONLY = ("mig",)


@dataclass(frozen=True)
class GpuDevice:
    """One `type: gpu` device of infra.yml, on a profile or on a machine."""
    domain: str
    owner: str                 # "profile" or "machine"
    owner_name: str
    name: str
    spec: Mapping[str, Any]
    path: tuple

    @property
    def label(self) -> str:
        return f"{self.owner} '{self.owner_name}' device '{self.name}'"

    @property
    def gputype(self) -> Any:
        return self.spec.get("gputype", "physical")

    def option(self, key: str) -> str | None:
        """The option as Incus reads it (a string), None when unset; Incus treats "" as unset."""
        value = self.spec.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


def gpu_device_sites(data: Mapping[str, Any]) -> Iterator[GpuDevice]:
    """Every GPU device: per domain in file order, its profiles' devices, then its machines'."""
    for domain_name, domain in (data.get("domains") or {}).items():
        domain = domain or {}
        for owner in ("profile", "machine"):
            for owner_name, spec in (domain.get(owner + "s") or {}).items():
                for name, device in gpu_devices((spec or {}).get("devices")):
                    path = ("domains", domain_name, owner + "s", owner_name, "devices", name)
                    yield GpuDevice(domain_name, owner, owner_name, name, device, path)
