"""Incus: one project per domain, its network, profiles and instances (AnKLuMe's shape).

Files, all YAML that the `incus` client reads on standard input:

- `incus/<domain>/project.yaml`: `incus project create <domain> < project.yaml`.
  `name`, `description` (the domain's) and the project's features, every one
  written so that an edit never switches one: AnKLuMe's (its own images,
  profiles and storage volumes; the default project's networks) and the
  one Incus 6.0 turns on at creation besides, `features.storage.buckets`.
- `incus/<domain>/networks/net-<domain>.yaml`: `incus network create
  --project <domain> -- net-<domain> < file`, which makes it in the default
  project (`features.networks` is false: networks are global in AnKLuMe).
  The bridge AnKLuMe's incus_networks role makes: the domain's /24 from
  `global.addressing` (or the legacy `base_subnet` and `subnet_id`; no
  network for a legacy domain without `subnet_id`), gateway .254, DHCP
  .100-.249, NAT and firewall on, no IPv6. `name` and `type` are for the
  command line.
- `incus/<domain>/network-acls/psot-<domain>.yaml`: with `network_policies`,
  the domain network's ACL (`incus network acl create`), named in the
  network's `security.acls` (generator/platforms/incus/acls.py).
- `incus/<domain>/volumes/<pool>/<volume>.yaml`: a custom storage volume
  (`incus storage volume create --project <domain> <pool> <volume> < file`).
- `incus/<domain>/profiles/<profile>.yaml`:
  `incus profile create|edit <profile> --project <domain> < file`;
  `description`, `config`, `devices` as written in infra.yml. The project's
  `default` profile is always written (AnKLuMe's incus_profiles role): a
  `root` disk on `global.incus.storage_pool` (default `default`) and `eth0`
  on the domain's network with MAC and IP filtering (incus_projects), then
  what infra.yml's own `default` profile sets, device by device.
- `incus/<domain>/instances/<machine>.yaml`: `name`, `type`
  (`container` for `lxc`, `virtual-machine` for `vm`), `image` (the machine's
  `os_image`, else `global.default_os_image`; omitted when neither is set),
  then the instance body `incus create <image> <machine> --project <domain>
  [--vm] < file` reads (`description`, `profiles`, `config`, `devices`; the
  client ignores `name`, `type` and `image`, which are for the command line).

Instance config: the machine's `config`, plus what AnKLuMe's incus_instances
role sets from its other keys: `security.protection.delete` (true unless the
machine, or else its domain, is `ephemeral`), `boot.autostart`,
`boot.autostart.priority`, `snapshots.schedule`, `snapshots.expiry`. Incus
keeps every config and device value as a string: numbers and booleans are
written as Incus prints them (`"4"`, `"true"`).

Instance devices, as AnKLuMe's generator merges them (a later one replaces
an earlier one of the same name): `sv-<volume>` disks of the
`shared_volumes` the machine consumes (`source`, default
`<shared_volumes_base>/<volume>`; `path`, default `/shared/<volume>`;
`shift` unless false; `readonly` for `ro` consumers), `pd-<name>` disks of
its `persistent_data` (`<persistent_data_base>/<domain>/<machine>/<name>`,
shifted), then its own devices. A machine with an IP (written, or assigned
by the addressing: the first free of .1-.99 in name order) whose `eth0`
comes from the default profile gets that `eth0` on the instance with
`ipv4.address` (AnKLuMe's `incus config device override`).
A machine's `storage_volumes` (AnKLuMe's incus_instances role) are custom
volumes of the domain's project, each in `incus/<domain>/volumes/<pool>/<name>.yaml`
(`pool`, default `global.incus.storage_pool`; the body `incus storage volume
create` reads: `description` and `config`, `size` when given), attached to
the machine as the disk device `<name>` (`pool`, `source: <name>`, `path`)
when it has a `path`. Machines of one domain naming the same volume share it
(INC008 refuses two different specs of one volume).

GPU devices. With a hosts inventory, a machine that placement gave GPUs gets
one `gpu` device per GPU on the instance, naming the card by its `pci`
address (else by `id`, the DRM card index): the device of that name from its
profiles or its own devices is replaced, keeping its `gputype` and the
options of that type (`mig.*`, `mdev`), and losing only the options that
select a card another way (`id`, `vendorid`, `productid`). A `gpu` device of
its profiles or its own that placement left without a card (all of them,
for a machine placement gave none) is masked with a `none` device of the
same name, so the instance never sees a GPU it was not given. A VM passed a
GPU through gets `gputype: physical` with its `pci`, which is vfio
passthrough, and a `pci` device per other function of the card
(`functions`: its HDMI audio), `gpu-fn1`, so the whole card goes. A
container given an NVIDIA GPU gets `nvidia.runtime: "true"`
(the host's driver libraries and nvidia-smi inside), and
`nvidia.driver.capabilities` (compute,utility and what its
`gpu.capabilities` adds besides `gpu`) when it asks for more, unless its config or
profiles set them. A container given an AMD GPU gets a `kfd` unix-char
device for `/dev/kfd`, which ROCm compute needs; its `gpu` device already
brings the card's `/dev/dri` card and render nodes.
Without an inventory (plain AnKLuMe), devices are kept as written, and a
`gpu: true` machine none of whose profiles or devices has a `gpu` device gets
`gpu: {type: gpu, gputype: physical}` on the instance: AnKLuMe's direct
detection means GPU access, and this is the device its nvidia-compute profile
gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.model import passthrough
from generator.model.core import Gpu, Infra
from generator.model.incus import Network, domain_networks, expanded_devices
from generator.placement.core import Placement
from generator.platforms.incus.acls import acl_name, network_acls
from generator.serialize import exact_text

# AnKLuMe's features of a domain project (roles/incus_projects), and the one Incus 6.0 also turns on when
# it creates a project (`incus project create`): written, an edit keeps them all as they are.
PROJECT_FEATURES = {
    "features.images": "true",
    "features.networks": "false",
    "features.profiles": "true",
    "features.storage.buckets": "true",
    "features.storage.volumes": "true",
}
INSTANCE_TYPES = {"lxc": "container", "vm": "virtual-machine"}
CARD_SELECTORS = ("pci", "id", "vendorid", "productid")
# The option order of a generated GPU device: type first, then how it is shared, then the card.
GPU_KEY_ORDER = ("type", "gputype", "pci", "id", "vendorid", "productid")
DEFAULT_PROFILE_DESCRIPTION = "Default Incus profile"    # what Incus gives a new project's default profile
NIC_FILTERING = ("security.ipv4_filtering", "security.ipv6_filtering", "security.mac_filtering")
NVIDIA_DEFAULT_CAPABILITIES = ("compute", "utility")      # Incus's nvidia.driver.capabilities when unset
KFD = {"type": "unix-char", "source": "/dev/kfd", "path": "/dev/kfd"}


def incus_value(value: Any) -> str:
    """A config or device value as Incus stores it: always a string, numbers exactly (serialize.exact_text)."""
    if isinstance(value, (bool, int, float, str)):
        return exact_text(value)
    raise ValueError(f"not a scalar Incus value: {value!r}")  # the schema allows only scalars


def _config(config: Any) -> dict[str, str]:
    return {key: incus_value(value) for key, value in sorted((config or {}).items())}


def _device(device: Mapping[str, Any]) -> dict[str, str]:
    first = [k for k in GPU_KEY_ORDER if k in device]
    rest = sorted(k for k in device if k not in GPU_KEY_ORDER)
    return {k: incus_value(device[k]) for k in first + rest}


def _devices(devices: Any) -> dict[str, dict[str, str]]:
    return {name: _device(device) for name, device in sorted((devices or {}).items())}


def _project(name: str, domain: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": domain.get("description", ""), "config": dict(PROJECT_FEATURES)}


def _network(domain: Mapping[str, Any], network: Network, acl: str | None) -> dict[str, Any]:
    config = {
        "ipv4.address": f"{network.gateway}/24",
        "ipv4.dhcp.ranges": network.dhcp_ranges,
        "ipv4.firewall": "true",
        "ipv4.nat": "true",
        "ipv6.address": "none",
    }
    if acl is not None:
        config["security.acls"] = acl
    return {"name": network.name, "type": "bridge", "description": domain.get("description", ""), "config": config}


def _eth0(network: Network) -> dict[str, Any]:
    return {"type": "nic", "name": "eth0", "network": network.name} | {key: "true" for key in NIC_FILTERING}


def _profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "description": profile.get("description", ""),
        "config": _config(profile.get("config")),
        "devices": _devices(profile.get("devices")),
    }


def _default_profile(infra: Infra, profile: Mapping[str, Any], network: Network | None) -> dict[str, Any]:
    """The project's default profile: AnKLuMe's root disk and eth0, then infra.yml's own `default`."""
    pool = _storage_pool(infra)
    devices: dict[str, Any] = {"root": {"type": "disk", "path": "/", "pool": pool}}
    if network is not None:
        devices["eth0"] = _eth0(network)
    devices.update(profile.get("devices") or {})
    return {
        "description": profile.get("description", DEFAULT_PROFILE_DESCRIPTION),
        "config": _config(profile.get("config")),
        "devices": _devices(devices),
    }


def _placed_gpu(base: Mapping[str, Any] | None, gpu: Gpu) -> dict[str, Any]:
    """The device `base` asked for, pointed at the card placement chose."""
    device = {k: v for k, v in (base or {}).items() if k not in CARD_SELECTORS}
    device["type"] = "gpu"
    device.setdefault("gputype", "physical")
    if gpu.pci:
        device["pci"] = gpu.pci
    elif gpu.index is not None:
        device["id"] = gpu.index
    return device


def _placed_gpus(infra: Infra, placement: Placement, machine_name: str) -> list[Gpu] | None:
    """The GPUs placement gave the machine; None without an inventory (devices are kept as written)."""
    if not infra.gpus:
        return None
    assignment = placement.assignments.get(machine_name)
    return [infra.gpus[key] for key in assignment.gpus] if assignment is not None else []


def _gpu_devices(expanded: Mapping[str, Any], own: dict[str, Any], machine: Mapping[str, Any],
                 gpus: list[Gpu] | None) -> dict[str, Any]:
    """The instance's own devices, with the GPU devices placement decided (see the module docstring)."""
    gpu_names = [n for n, d in sorted(expanded.items()) if isinstance(d, dict) and d.get("type") == "gpu"]
    if gpus is None:
        if machine.get("gpu", False) is not False and not gpu_names:
            own["gpu"] = {"type": "gpu", "gputype": "physical"}
        return own
    names = list(gpu_names)
    free = (n for n in ("gpu", *(f"gpu{i}" for i in range(1, 1 + len(expanded) + len(gpus))))
            if n not in expanded)
    names += [next(free) for _ in range(len(names), len(gpus))]
    for name, gpu in zip(names, gpus):
        own[name] = _placed_gpu(expanded.get(name), gpu)
    for name in names[len(gpus):]:
        own[name] = {"type": "none"}
    return own


def _companion_devices(devices: dict[str, Any], gpus: list[Gpu]) -> None:
    """A VM passed a whole card also gets the card's other functions (its HDMI audio, `functions`), as `pci`
    devices named after the GPU device and the function (`gpu-fn1`): passing only the VGA function leaves the
    audio one on the host driver in the same IOMMU group, which vfio refuses (Incus documentation, "Type:
    pci": `address`)."""
    for name, device in sorted(devices.items()):
        if not isinstance(device, dict) or device.get("type") != "gpu" or device.get("gputype") != "physical":
            continue
        gpu = next((g for g in gpus if g.pci and g.pci == device.get("pci")), None)
        for address in passthrough.companions(gpu) if gpu is not None else ():
            devices.setdefault(f"{name}-fn{address.rsplit('.', 1)[1]}", {"type": "pci", "address": address})


def _profile_configs(domain: Mapping[str, Any], machine: Mapping[str, Any]) -> dict[str, Any]:
    """The config keys the machine's profiles set, as Incus expands them (a later profile wins)."""
    profiles = domain.get("profiles") or {}
    out: dict[str, Any] = {}
    for name in machine.get("profiles") or ["default"]:
        out.update(((profiles.get(name) or {}).get("config")) or {})
    return out


def _gpu_runtime(config: dict[str, Any], inherited: Mapping[str, Any], devices: dict[str, Any],
                 expanded: Mapping[str, Any], machine: Mapping[str, Any], gpus: list[Gpu]) -> None:
    """What a container needs to use the GPUs it was given: NVIDIA's runtime, AMD's /dev/kfd."""
    vendors = {gpu.vendor for gpu in gpus}
    setting = {**inherited, **config}
    if "nvidia" in vendors:
        if "nvidia.runtime" not in setting:
            config["nvidia.runtime"] = True
        request = machine.get("gpu")
        asked = request.get("capabilities", []) if isinstance(request, dict) else []
        extra = [c for c in asked if c != "gpu"]
        if extra and "nvidia.driver.capabilities" not in setting:
            wanted = ["all"] if "all" in extra else sorted({*NVIDIA_DEFAULT_CAPABILITIES, *extra})
            config["nvidia.driver.capabilities"] = ",".join(wanted)
    if "amd" in vendors:
        has_kfd = any(isinstance(d, dict) and d.get("type") == "unix-char" and d.get("source", d.get("path"))
                      == KFD["source"] for d in {**expanded, **devices}.values())
        if not has_kfd and "kfd" not in {**expanded, **devices}:
            devices["kfd"] = dict(KFD)


def _volume_devices(infra: Infra, domain_name: str, machine_name: str,
                    machine: Mapping[str, Any]) -> dict[str, Any]:
    """The `sv-*` disks of the shared volumes the machine consumes and the `pd-*` disks of its persistent_data."""
    glob = infra.data.get("global") or {}
    devices: dict[str, Any] = {}
    shares = glob.get("shared_volumes_base", "/srv/anklume/shares")
    for volume, spec in sorted((infra.data.get("shared_volumes") or {}).items()):
        consumers = spec.get("consumers") or {}
        access = consumers.get(machine_name, consumers.get(domain_name))
        if access is None:
            continue
        device: dict[str, Any] = {"type": "disk", "source": spec.get("source", f"{shares}/{volume}"),
                                  "path": spec.get("path", f"/shared/{volume}")}
        if spec.get("shift", True):
            device["shift"] = True
        if access == "ro":
            device["readonly"] = True
        devices[f"sv-{volume}"] = device
    data = glob.get("persistent_data_base", "/srv/anklume/data")
    for name, spec in sorted((machine.get("persistent_data") or {}).items()):
        device = {"type": "disk", "source": f"{data}/{domain_name}/{machine_name}/{name}", "path": spec["path"],
                  "shift": True}
        if spec.get("readonly", False):
            device["readonly"] = True
        devices[f"pd-{name}"] = device
    for name, spec in sorted((machine.get("storage_volumes") or {}).items()):
        spec = spec or {}
        if "path" in spec:
            devices[name] = {"type": "disk", "pool": spec.get("pool", _storage_pool(infra)), "source": name,
                             "path": spec["path"]}
    return devices


def _storage_pool(infra: Infra) -> str:
    """`global.incus.storage_pool`: where root disks and storage volumes go unless said otherwise."""
    return str(((infra.data.get("global") or {}).get("incus") or {}).get("storage_pool", "default"))


def _volumes(infra: Infra, domain: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`<pool>/<name>` -> the body of each storage volume the domain's machines declare (the first in name order
    when several declare one; INC008 says when they differ)."""
    out: dict[str, dict[str, Any]] = {}
    for _, machine in sorted((domain.get("machines") or {}).items()):
        for name, spec in sorted(((machine or {}).get("storage_volumes") or {}).items()):
            spec = spec or {}
            body: dict[str, Any] = {"description": "", "config": {}}
            if "size" in spec:
                body["config"]["size"] = incus_value(spec["size"])
            out.setdefault(f"{spec.get('pool', _storage_pool(infra))}/{name}", body)
    return out


def _instance(infra: Infra, placement: Placement, domain_name: str, domain: Mapping[str, Any],
              machine_name: str, machine: Mapping[str, Any], network: Network | None) -> dict[str, Any]:
    glob = infra.data.get("global") or {}   # as written: the model does not carry AnKLuMe's defaults
    image = machine.get("os_image", glob.get("default_os_image"))
    ephemeral = machine.get("ephemeral")
    if ephemeral is None:
        ephemeral = domain.get("ephemeral", False)
    config = dict(machine.get("config") or {})
    config["security.protection.delete"] = not ephemeral
    for key, option in (("boot_autostart", "boot.autostart"), ("boot_priority", "boot.autostart.priority"),
                        ("snapshots_schedule", "snapshots.schedule"), ("snapshots_expiry", "snapshots.expiry")):
        if key in machine:
            config[option] = machine[key]
    expanded = {name: device for name, (_, device) in
                expanded_devices(domain_name, domain, machine_name, machine).items()}
    own = _volume_devices(infra, domain_name, machine_name, machine) | dict(machine.get("devices") or {})
    profiles = list(machine.get("profiles") or ["default"])
    eth0_from_default = "default" in profiles and not any(
        "eth0" in (((domain.get("profiles") or {}).get(p) or {}).get("devices") or {}) for p in profiles)
    if network is not None and machine_name in network.ips and "eth0" not in own and eth0_from_default:
        own["eth0"] = _eth0(network) | {"ipv4.address": network.ips[machine_name]}
    gpus = _placed_gpus(infra, placement, machine_name)
    devices = _gpu_devices(expanded, own, machine, gpus)
    kind = machine.get("type", "lxc")
    if gpus and kind == "lxc":
        _gpu_runtime(config, _profile_configs(domain, machine), devices, expanded, machine, gpus)
    if gpus and kind == "vm":
        _companion_devices(devices, gpus)
    body: dict[str, Any] = {"name": machine_name, "type": INSTANCE_TYPES[kind]}
    if image:
        body["image"] = image
    body.update({
        "description": machine.get("description", ""),
        "profiles": profiles,
        "config": _config(config),
        "devices": _devices(devices),
    })
    return body


def render(infra: Infra, placement: Placement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    networks = domain_networks(infra.data)
    acls = network_acls(infra.data, networks)
    # The domains as written, not infra.domains: the Incus objects are rendered key by key from infra.yml.
    for domain_name, domain in sorted((infra.data.get("domains") or {}).items()):
        domain = domain or {}
        if domain.get("enabled", True) is False:
            continue
        base = f"incus/{domain_name}"
        network = networks.get(domain_name)
        out[f"{base}/project.yaml"] = _project(domain_name, domain)
        acl = acl_name(domain_name) if domain_name in acls and network is not None else None
        if network is not None:
            if acl is not None:
                out[f"{base}/network-acls/{acl}.yaml"] = acls[domain_name]
            out[f"{base}/networks/{network.name}.yaml"] = _network(domain, network, acl)
        for volume, body in sorted(_volumes(infra, domain).items()):
            out[f"{base}/volumes/{volume}.yaml"] = body
        profiles = domain.get("profiles") or {}
        out[f"{base}/profiles/default.yaml"] = _default_profile(infra, profiles.get("default") or {}, network)
        for profile_name, profile in sorted(profiles.items()):
            if profile_name != "default":
                out[f"{base}/profiles/{profile_name}.yaml"] = _profile(profile or {})
        for machine_name, machine in sorted((domain.get("machines") or {}).items()):
            out[f"{base}/instances/{machine_name}.yaml"] = _instance(
                infra, placement, domain_name, domain, machine_name, machine or {}, network)
    return out
