"""Incus: one project per domain, its profiles and its instances (AnKLuMe's shape).

Files, all YAML that the `incus` client reads on standard input:

- `incus/<domain>/project.yaml`: `incus project create <domain> < project.yaml`.
  `name`, `description` (the domain's) and the features AnKLuMe sets on a
  domain project (roles/incus_projects): its own images, profiles and storage
  volumes, the default networks (networks are global in AnKLuMe).
- `incus/<domain>/profiles/<profile>.yaml`:
  `incus profile create <profile> --project <domain> < file`; `description`,
  `config`, `devices` as written in infra.yml. The project's own `default`
  profile (root disk and eth0 on the domain bridge) is AnKLuMe's network
  set-up and is not rendered unless infra.yml defines a `default` profile.
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
written as Incus prints them (`"4"`, `"true"`). `ip`, `storage_volumes` and
`persistent_data` need the domain's network, pools and host paths, which
AnKLuMe creates; they are not rendered here.

GPU devices. With a hosts inventory, a machine that placement gave GPUs gets
one `gpu` device per GPU on the instance, naming the card by its `pci`
address (else by `id`, the DRM card index): the device of that name from its
profiles or its own devices is replaced, keeping its `gputype` and the
options of that type (`mig.*`, `mdev`), and losing only the options that
select a card another way (`id`, `vendorid`, `productid`). A profile `gpu`
device that the placement left without a card is masked with a `none`
device, so the instance cannot see GPUs it was not given. A VM passed a GPU
through gets `gputype: physical` with its `pci`, which is vfio passthrough.
Without an inventory (plain AnKLuMe), devices are kept as written, and a
`gpu: true` machine none of whose profiles or devices has a `gpu` device gets
`gpu: {type: gpu, gputype: physical}` on the instance: AnKLuMe's direct
detection means GPU access, and this is the device its nvidia-compute profile
gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.model.core import Gpu, Infra
from generator.model.incus import expanded_devices
from generator.placement.core import Placement
from generator.serialize import exact_text

# What AnKLuMe sets on every domain project (roles/incus_projects/tasks/main.yml).
PROJECT_FEATURES = {
    "features.images": "true",
    "features.networks": "false",
    "features.profiles": "true",
    "features.storage.volumes": "true",
}
INSTANCE_TYPES = {"lxc": "container", "vm": "virtual-machine"}
CARD_SELECTORS = ("pci", "id", "vendorid", "productid")
# The option order of a generated GPU device: type first, then how it is shared, then the card.
GPU_KEY_ORDER = ("type", "gputype", "pci", "id", "vendorid", "productid")


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


def _profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "description": profile.get("description", ""),
        "config": _config(profile.get("config")),
        "devices": _devices(profile.get("devices")),
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


def _gpu_devices(infra: Infra, placement: Placement, domain_name: str, domain: Mapping[str, Any],
                 machine_name: str, machine: Mapping[str, Any]) -> dict[str, Any]:
    """The instance's own devices, with the GPU devices placement decided (see the module docstring)."""
    own = dict(machine.get("devices") or {})
    expanded = {name: device for name, (_, device) in
                expanded_devices(domain_name, domain, machine_name, machine).items()}
    gpu_names = [n for n, d in sorted(expanded.items()) if isinstance(d, dict) and d.get("type") == "gpu"]
    assignment = placement.assignments.get(machine_name)
    if not infra.gpus or assignment is None or not assignment.gpus:
        if machine.get("gpu", False) is not False and not gpu_names:
            own["gpu"] = {"type": "gpu", "gputype": "physical"}
        return own
    names = list(gpu_names)
    free = (n for n in ("gpu", *(f"gpu{i}" for i in range(1, 1 + len(expanded) + len(assignment.gpus))))
            if n not in expanded)
    names += [next(free) for _ in range(len(names), len(assignment.gpus))]
    for name, key in zip(names, assignment.gpus):
        own[name] = _placed_gpu(expanded.get(name), infra.gpus[key])
    for name in names[len(assignment.gpus):]:
        own[name] = {"type": "none"}
    return own


def _instance(infra: Infra, placement: Placement, domain_name: str, domain: Mapping[str, Any],
              machine_name: str, machine: Mapping[str, Any]) -> dict[str, Any]:
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
    body: dict[str, Any] = {"name": machine_name, "type": INSTANCE_TYPES[machine.get("type", "lxc")]}
    if image:
        body["image"] = image
    body.update({
        "description": machine.get("description", ""),
        "profiles": list(machine.get("profiles") or ["default"]),
        "config": _config(config),
        "devices": _devices(_gpu_devices(infra, placement, domain_name, domain, machine_name, machine)),
    })
    return body


def render(infra: Infra, placement: Placement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # The domains as written, not infra.domains: the Incus objects are rendered key by key from infra.yml.
    for domain_name, domain in sorted((infra.data.get("domains") or {}).items()):
        domain = domain or {}
        if domain.get("enabled", True) is False:
            continue
        base = f"incus/{domain_name}"
        out[f"{base}/project.yaml"] = _project(domain_name, domain)
        for profile_name, profile in sorted((domain.get("profiles") or {}).items()):
            out[f"{base}/profiles/{profile_name}.yaml"] = _profile(profile or {})
        for machine_name, machine in sorted((domain.get("machines") or {}).items()):
            out[f"{base}/instances/{machine_name}.yaml"] = _instance(
                infra, placement, domain_name, domain, machine_name, machine or {})
    return out
