"""The Incus objects of infra.yml's `domains:`: domains, their profiles and machines, and the `type: gpu`
devices among their devices, option by option as Incus reads them.

Also how Incus expands a machine's devices (its profiles' devices, then its own), which the model reads
to find the machines with GPU access and the Incus renderer to write them, and AnKLuMe's addressing of
the domains' networks (`domain_networks`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

GPUTYPES = ("physical", "mdev", "mig", "sriov", "native-context")


VM_ONLY = ("mdev", "sriov", "native-context")


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


@dataclass(frozen=True)
class Profile:
    """A profile of a domain: its config and devices as written ({} when absent)."""
    domain: str
    name: str
    config: Mapping[str, Any]
    devices: Mapping[str, Mapping[str, Any]]
    gpu_devices: tuple[GpuDevice, ...]        # its `type: gpu` devices, by name
    path: tuple


@dataclass(frozen=True)
class Machine:
    """A machine of a domain, GPU consumer or not."""
    domain: str
    name: str
    type: str                                 # lxc (the default) or vm
    type_written: bool                        # infra.yml writes its `type`
    profiles: tuple[str, ...]                 # as written, in order
    config: Mapping[str, Any]
    devices: Mapping[str, Mapping[str, Any]]
    gpu_devices: tuple[GpuDevice, ...]        # its own `type: gpu` devices, by name
    # The GPU devices it ends up with, as Incus expands its devices (see expanded_devices): its
    # profiles' and its own, a device replaced by a later one of the same name.
    expanded_gpu_devices: tuple[GpuDevice, ...]
    path: tuple


@dataclass(frozen=True)
class Domain:
    name: str
    trust_level: str | None
    profiles: Mapping[str, Profile]           # in file order
    machines: Mapping[str, Machine]           # in file order
    path: tuple


# AnKLuMe's zones (ADR-038): the second octet of a domain's subnet is zone_base plus its trust level's offset.
ZONE_OFFSETS = {"admin": 0, "trusted": 10, "semi-trusted": 20, "untrusted": 40, "disposable": 50}
DEFAULT_TRUST_LEVEL = "semi-trusted"
STATIC_HOSTS = range(1, 100)          # the machines' addresses; .100-.249 is DHCP, .254 the gateway


@dataclass(frozen=True)
class Network:
    """A domain's bridge as AnKLuMe makes it: `net-<domain>`, a /24 whose gateway is .254."""
    name: str
    prefix: str                       # the first three octets, e.g. "10.120.0"
    ips: Mapping[str, str]            # machine -> its static IPv4 address (written or assigned)

    @property
    def subnet(self) -> str:
        return f"{self.prefix}.0/24"

    @property
    def gateway(self) -> str:
        return f"{self.prefix}.254"

    @property
    def dhcp_ranges(self) -> str:
        return f"{self.prefix}.100-{self.prefix}.249"


def domain_networks(data: Mapping[str, Any]) -> dict[str, Network]:
    """The network of every domain of a schema-valid infra.yml that has one, as AnKLuMe's generator computes it.

    With `global.addressing`: the domains (disabled ones too: their addresses
    stay reserved) are grouped by trust level (default semi-trusted); the zone's
    second octet is `zone_base` + the level's offset; within a zone a domain's
    `subnet_id` is its third octet, and the others take the free ones from 0 in
    name order. A machine without `ip` gets the first free host of .1-.99, in
    name order (as AnKLuMe's engine does; its older generator went by file
    order, which would make the tree depend on key order). Without it (legacy
    `base_subnet`): `<base_subnet>.<subnet_id>`, only for the domains with a
    `subnet_id`, and only the IPs written.
    """
    glob = data.get("global") or {}
    domains = {name: domain or {} for name, domain in (data.get("domains") or {}).items()}
    addressing = glob.get("addressing")
    prefixes: dict[str, str] = {}
    if addressing is None:
        base = glob.get("base_subnet", "10.100")
        prefixes = {name: f"{base}.{d['subnet_id']}" for name, d in domains.items() if "subnet_id" in d}
    else:
        zones: dict[str, list[str]] = {}
        for name, domain in domains.items():
            zones.setdefault(domain.get("trust_level", DEFAULT_TRUST_LEVEL), []).append(name)
        for trust, names in zones.items():
            second = addressing.get("zone_base", 100) + ZONE_OFFSETS[trust]
            taken = {domains[n]["subnet_id"]: n for n in names if "subnet_id" in domains[n]}
            free = (seq for seq in range(255) if seq not in taken)
            seqs = {n: s for s, n in taken.items()}
            seqs |= {n: next(free) for n in sorted(names) if "subnet_id" not in domains[n]}
            for name, seq in seqs.items():
                prefixes[name] = f"{addressing.get('base_octet', 10)}.{second}.{seq}"
    return {name: Network(f"net-{name}", prefix, _ips(domains[name], prefix, addressing is not None))
            for name, prefix in prefixes.items()}


def _ips(domain: Mapping[str, Any], prefix: str, assign: bool) -> dict[str, str]:
    machines = {name: machine or {} for name, machine in (domain.get("machines") or {}).items()}
    ips = {name: m["ip"] for name, m in machines.items() if m.get("ip")}
    if not assign:
        return ips
    used = {int(ip.rsplit(".", 1)[1]) for ip in ips.values() if ip.startswith(prefix + ".")}
    free = (host for host in STATIC_HOSTS if host not in used)
    for name in sorted(machines):
        if name not in ips:
            host = next(free, None)
            if host is None:
                break                 # AnKLuMe refuses the domain; psot leaves the rest to DHCP
            ips[name] = f"{prefix}.{host}"
    return {name: ips[name] for name in machines if name in ips}


def gpu_devices(devices: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """(name, device) of the `type: gpu` devices of a devices mapping, by name."""
    if not isinstance(devices, dict):
        return []
    return [(n, d) for n, d in sorted(devices.items()) if isinstance(d, dict) and d.get("type") == "gpu"]


def expanded_devices(domain_name: str, domain: Mapping[str, Any], machine_name: str,
                     machine: Mapping[str, Any]) -> dict[str, tuple[tuple, Any]]:
    """The devices a machine ends up with, as Incus expands them: `name -> (path, device)`.

    Its domain's profiles in the order it lists them, then its own devices; a
    later device replaces an earlier one of the same name.
    """
    profiles = domain.get("profiles") or {}
    out: dict[str, tuple[tuple, Any]] = {}
    for profile in machine.get("profiles") or []:
        if isinstance(profile, str) and isinstance(profiles.get(profile), dict):
            for name, device in (profiles[profile].get("devices") or {}).items():
                out[name] = (("domains", domain_name, "profiles", profile, "devices", name), device)
    for name, device in (machine.get("devices") or {}).items():
        out[name] = (("domains", domain_name, "machines", machine_name, "devices", name), device)
    return out


def machine_gpu_devices(domain_name: str, domain: Mapping[str, Any], machine_name: str,
                        machine: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The `type: gpu` devices among the machine's expanded devices, by device name."""
    expanded = expanded_devices(domain_name, domain, machine_name, machine)
    return [device for _, (_, device) in sorted(expanded.items())
            if isinstance(device, dict) and device.get("type") == "gpu"]


def domain_views(section: Mapping[str, Any]) -> dict[str, Domain]:
    """The views of a schema-valid `domains:` section, in file order."""
    return {name: _domain(name, domain or {}) for name, domain in section.items()}


def all_gpu_devices(section: Mapping[str, Domain]) -> tuple[GpuDevice, ...]:
    """Every GPU device: per domain in file order, its profiles' devices, then its machines'."""
    return tuple(_all_gpu_devices(section))


def _all_gpu_devices(section: Mapping[str, Domain]) -> Iterator[GpuDevice]:
    for domain in section.values():
        for profile in domain.profiles.values():
            yield from profile.gpu_devices
        for machine in domain.machines.values():
            yield from machine.gpu_devices


def _devices(domain: str, owner: str, owner_name: str, spec: Mapping[str, Any]) -> tuple[GpuDevice, ...]:
    return tuple(GpuDevice(domain, owner, owner_name, name, device,
                           ("domains", domain, owner + "s", owner_name, "devices", name))
                 for name, device in gpu_devices(spec.get("devices")))


def _domain(name: str, domain: Mapping[str, Any]) -> Domain:
    path = ("domains", name)
    profiles = {}
    for profile_name, spec in (domain.get("profiles") or {}).items():
        spec = spec or {}
        profiles[profile_name] = Profile(name, profile_name, spec.get("config") or {}, spec.get("devices") or {},
                                         _devices(name, "profile", profile_name, spec),
                                         path + ("profiles", profile_name))
    sites = {device.path: device for profile in profiles.values() for device in profile.gpu_devices}
    machines = {}
    for machine_name, spec in (domain.get("machines") or {}).items():
        spec = spec or {}
        own = _devices(name, "machine", machine_name, spec)
        mine = sites | {device.path: device for device in own}
        expanded = expanded_devices(name, domain, machine_name, spec)
        machines[machine_name] = Machine(
            name, machine_name, spec.get("type", "lxc"), "type" in spec, tuple(spec.get("profiles") or ()),
            spec.get("config") or {}, spec.get("devices") or {}, own,
            tuple(mine[where] for where, _ in expanded.values() if where in mine), path + ("machines", machine_name))
    return Domain(name, domain.get("trust_level"), MappingProxyType(profiles), MappingProxyType(machines), path)
