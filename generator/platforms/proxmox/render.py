"""Proxmox VE: VM configs with PCI passthrough, the cluster PCI mappings, host vfio preparation.

Files (SPEC §5), all text by nature (serialize.TextFile):

`proxmox/<host>/qemu-server/<vmid>.conf` — for every workload with
`target: proxmox`, with or without a GPU (a VM whose GPU went away must show
its `hostpciN` lines leaving in the plan, not keep a stale file). It holds
the options psot owns, in qm.conf format, keys sorted as `qm config` prints
them; psot's header is the first line of the VM's description. Apply sets
these options on the VM (`qm set`), it does not replace the file: disks and
networks stay as Proxmox allocated them.

- `hostpciN`, one per GPU placement passed through to the VM, in placement
  order, the whole card (model/passthrough.py): `mapping=<id>` of its
  cluster mapping (the default, `global.proxmox.hostpci: mapping`: only root@pam may set
  a raw address, a mapping needs Mapping.Use; qemu-server
  `PVE/API2/Qemu.pm` `check_hostpci_perm`), or with `hostpci: address` (and for a GPU without `pci_id`,
  whose mapping cannot be written, see PASS004) the card's slot
  `0000:01:00`: qemu-server passes every function of a slot given without
  its function (`PVE::SysFSTools::lspci` of the id, qemu-server
  `PVE/QemuServer/PCI.pm` `parse_hostpci`), and binds each to vfio-pci when
  the VM starts. A card whose `functions` are on another slot is named by
  its addresses, `;`-separated. `pcie=1` when the machine is a q35 one;
  `x-vga=1` on the first GPU with `primary_display: true`. A workload with
  `gpu.passthrough: false` gets no `hostpciN`: psot renders whole-device
  passthrough only (no mediated devices).
- `bios` and `machine`: as infra.yml says; a VM with a passed-through GPU
  defaults to `bios: ovmf` and `machine: q35` (PCIe passthrough of a
  modern GPU). Without a GPU they are written only when infra.yml sets them.
- `cores`, `memory` (from `memory_mb`), `ostype`: written only when set;
  Proxmox's own defaults apply otherwise. `name`: infra.yml's, else the
  workload name.
- `efidisk0` and `tpmstate0` for an `ostype: win11` VM with a `storage`
  (Windows 11 wants UEFI with Secure Boot and a TPM 2.0):
  `<storage>:1,efitype=4m,pre-enrolled-keys=1` and
  `<storage>:1,version=v2.0`, the `STORAGE_ID:SIZE` form with which `qm set`
  allocates a new volume (qemu-server `PVE/QemuServer/Drive.pm`: efitype,
  pre-enrolled-keys, the TPM version; the size of either is fixed by
  Proxmox). Apply sets them when they change in the file, so once: Proxmox
  then lists the allocated volume, which psot does not read back. Without
  `storage`, PVE006 warns and neither is written.

`proxmox/mapping/pci.cfg` — one section per mapping id with one `map` line
per GPU passed through to a Proxmox VM that has a `pci_id`:
`map id=<pci_id>[,iommugroup=<n>],node=<node>,path=<card>[,subsystem-id=<vvvv:dddd>]`
(property keys sorted, as `PVE::JSONSchema::print_property_string` prints
them). `node` is `hosts.<h>.proxmox.node`, else the host key; `path` the
card as above (pve-guest-common `src/PVE/Mapping/PCI.pm`: "If the function
is omitted, the whole device is mapped. In that case use the attributes of
the first device", which are the GPU's `pci_id`, `iommu_group` and
`subsystem_id`). When a VM using `mapping=` starts, Proxmox compares
`id`, `iommugroup` and `subsystem-id` with the hardware and refuses a
mapping that lacks one the device has (`assert_valid`: "missing expected
property"): PVE005 warns when the inventory lacks them. The id is the
GPU's `mapping` name, else `<host>-<gpu>` (PVE003 checks both). GPUs that
share a `mapping` name are one cluster mapping with a `map` line per node.

`proxmox/<host>/host/...` — for every host that passes a GPU through to a
Proxmox VM:

- `cmdline`: the kernel parameters the IOMMU needs, one line and no header:
  `iommu=pt`, and `intel_iommu=on` unless the host's `cpu_vendor` is AMD
  or its `kernel` is 6.8 or later (model/proxmox.py `iommu_params`). Apply
  adds them to the boot loader's command line (`hosts.<h>.proxmox.boot_loader`).
- `modules`: `vfio`, `vfio_iommu_type1`, `vfio_pci` (for /etc/modules).
- `modprobe.d/vfio.conf`: vfio-pci claims every function of every passed
  card at boot, before a host driver can:
  `options vfio-pci [ids=<pci_id,...>] disable_vga=1` with the ids (sorted,
  unique) of the passed functions whose id no device staying on the host
  has (`disable_vga=1`: vfio-pci opts the passed VGA devices out of the
  host's VGA arbitration). A function whose id is also a kept device's (two
  identical cards, one passed), or that has no `pci_id`, is bound by
  address instead: an `install vfio-pci` command writes `vfio-pci` to the
  function's `driver_override` before loading the module (`modprobe
  --ignore-install vfio-pci $CMDLINE_OPTS`, modprobe.d(5)); "only a driver
  with a name matching the value written to driver_override will have an
  opportunity to bind to the device"
  (https://www.kernel.org/doc/Documentation/ABI/testing/sysfs-bus-pci).
  Chosen over a udev rule (a driver module loaded for the kept card probes
  the passed one before udev handles its event) and over driverctl (a
  package Proxmox does not ship, and it unbinds a driver after the fact):
  the `softdep <driver> pre: vfio-pci` lines below make modprobe load
  vfio-pci, and so run the command, before any host driver of the card,
  in the initramfs as at boot. Then per vendor of a passed-through GPU its
  host drivers: `blacklist` when no GPU of that vendor stays with the host,
  else `softdep <driver> pre: vfio-pci`
  (the host keeps its driver for the GPUs it still uses, and vfio-pci
  claims the passed-through one first). NVIDIA: `nouveau` is always
  blacklisted (seed 000; psot's NVIDIA GPUs run NVIDIA's driver) and
  `nvidia` as above; AMD: `amdgpu`, `radeon`; Intel: `i915`, `xe` (the
  vendor rows of generator/hardware). The card's other functions' host
  drivers, which also drive the host's own devices, are never blacklisted:
  `softdep snd_hda_intel pre: vfio-pci` for an audio function (class 0403),
  `xhci_pci` for a USB controller (0c03), `i2c_nvidia_gpu` for NVIDIA's
  USB-C UCSI controller (0c80).

Every file is checked by generator.platforms.proxmox.pve_config before it is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.hardware import tables
from generator.model import passthrough
from generator.model import proxmox as pve
from generator.model.core import Gpu, Infra
from generator.placement.core import Placement
from generator.platforms.proxmox import pve_config
from generator.serialize import TextFile, header, templates

MAPPING_FILE = "proxmox/mapping/pci.cfg"
VFIO_MODULES = ("vfio", "vfio_iommu_type1", "vfio_pci")
# The host driver of a card's other functions, by PCI class (lspci -nn): vfio-pci must be loaded before it.
FUNCTION_DRIVERS = {"0403": "snd_hda_intel", "0c03": "xhci_pci", "0c80": "i2c_nvidia_gpu"}
MODPROBE = "/sbin/modprobe"


def gpu_spec(infra: Infra, gpu: Gpu) -> Mapping[str, Any]:
    """The GPU's mapping in infra.yml (for the Proxmox-only key the model does not carry, primary_display)."""
    return (infra.hosts[gpu.host].spec.get("gpus") or {})[gpu.name] or {}


def mapping_id(gpu: Gpu) -> str:
    """The cluster mapping id of a GPU: its `mapping` name, else `<host>-<gpu>`."""
    return gpu.mapping or f"{gpu.host}-{gpu.name}"


def _proxmox_workloads(infra: Infra) -> list[tuple[str, Mapping[str, Any]]]:
    # The mappings as written, not infra.workloads: qm.conf is rendered from keys the views do not carry.
    workloads = infra.data.get("workloads") or {}
    return [(name, spec or {}) for name, spec in sorted(workloads.items())
            if (spec or {}).get("target") == "proxmox"]


def _passed_gpus(infra: Infra, placement: Placement, name: str) -> list[Gpu]:
    consumer = infra.consumers.get(name)
    if consumer is None or consumer.path != ("workloads", name) or not consumer.request.passthrough:
        return []
    return [infra.gpus[key] for key in placement.assignments[name].gpus]


def _hostpci(gpu: Gpu, q35: bool, primary: bool, by_mapping: bool) -> str:
    if gpu.pci is None:   # PASS003 stops a passed-through GPU without a PCI address before rendering
        raise ValueError(f"{gpu.key} has no PCI address to pass through")
    value = f"mapping={mapping_id(gpu)}" if by_mapping and gpu.pci_id else passthrough.host_path(gpu)
    if q35:
        value += ",pcie=1"
    if primary:
        value += ",x-vga=1"
    return value


def vm_options(infra: Infra, name: str, spec: Mapping[str, Any], gpus: list[Gpu]) -> dict[str, str]:
    """The qm.conf options of one VM, sorted by key as Proxmox writes them."""
    if len(gpus) > pve_config.MAX_HOSTPCI:
        raise ValueError(f"{name}: {len(gpus)} GPUs, but a Proxmox VM has at most {pve_config.MAX_HOSTPCI} "
                         "hostpci devices")
    options: dict[str, str] = {}
    bios = spec.get("bios") or ("ovmf" if gpus else None)
    machine = spec.get("machine") or ("q35" if gpus else None)
    if bios:
        options["bios"] = bios
    if machine:
        options["machine"] = machine
    for key, source in (("cores", "cores"), ("memory", "memory_mb"), ("ostype", "ostype")):
        if spec.get(source) is not None:
            options[key] = str(spec[source])
    options["name"] = spec.get("name") or name
    storage = pve.storage(spec)
    if spec.get("ostype") == "win11" and storage:
        options["efidisk0"] = f"{storage}:1,efitype=4m,pre-enrolled-keys=1"
        options["tpmstate0"] = f"{storage}:1,version=v2.0"
    q35 = pve_config.is_q35(machine)
    primary = next((g.key for g in gpus if gpu_spec(infra, g).get("primary_display")), None)
    by_mapping = pve.hostpci_mode(infra.data) == pve.MAPPING
    for index, gpu in enumerate(gpus):
        options[f"hostpci{index}"] = _hostpci(gpu, q35, gpu.key == primary, by_mapping)
    return dict(sorted(options.items()))


def map_entry(infra: Infra, gpu: Gpu) -> str:
    """The `map` property string of a GPU's card, keys sorted as Proxmox prints them."""
    props = {"id": (gpu.pci_id or "").lower(), "node": pve.node_name(gpu.host, infra.hosts[gpu.host].spec),
             "path": passthrough.host_path(gpu)}
    group = passthrough.group_of(infra.hosts[gpu.host], gpu)
    if group is not None:
        props["iommugroup"] = str(group)
    if gpu.subsystem_id:
        props["subsystem-id"] = gpu.subsystem_id.lower()
    return ",".join(f"{k}={v}" for k, v in sorted(props.items()))


def vfio_binding(infra: Infra, host: str, passed: list[Gpu]) -> tuple[list[str], list[str]]:
    """(ids bound by `ids=`, addresses bound by driver_override) of the functions of the passed cards: by
    address when a device that stays on the host has the same id, or when the function has no id."""
    kept = {m.pci_id.lower() for m in passthrough.staying(infra.hosts[host], passed) if m.pci_id}
    ids: set[str] = set()
    addresses: set[str] = set()
    for gpu in passed:
        for address, pci_id in passthrough.card(gpu):
            if pci_id is None or pci_id.lower() in kept:
                addresses.add(address)
            else:
                ids.add(pci_id.lower())
    return sorted(ids), sorted(addresses)


def vfio_conf(infra: Infra, host: str, passed: list[Gpu]) -> str:
    ids, addresses = vfio_binding(infra, host, passed)
    lines = [f"options vfio-pci {'ids=' + ','.join(ids) + ' ' if ids else ''}disable_vga=1"]
    if addresses:
        overrides = "".join(f"echo vfio-pci > /sys/bus/pci/devices/{a}/driver_override; " for a in addresses)
        lines.append(f"install vfio-pci {overrides}{MODPROBE} --ignore-install vfio-pci $CMDLINE_OPTS")
    passed_keys = {g.key for g in passed}
    for vendor in sorted({g.vendor for g in passed}):
        stays = any(g.vendor == vendor and g.key not in passed_keys for g in infra.hosts[host].gpus)
        row = tables.vendor(vendor)
        lines += [f"blacklist {module}" for module in row.always_blacklisted]
        for driver in row.host_modules:
            lines.append(f"softdep {driver} pre: vfio-pci" if stays else f"blacklist {driver}")
    classes = {(f.class_ or "").lower() for g in passed for f in g.functions or ()}
    lines += [f"softdep {FUNCTION_DRIVERS[c]} pre: vfio-pci" for c in sorted(classes & set(FUNCTION_DRIVERS))]
    return "".join(line + "\n" for line in lines)


def _text(path: str, content: str, comment: str | None = "#") -> TextFile:
    """The file as psot writes it, after checking it the way Proxmox will read it."""
    full = (header("infra.yml", comment) if comment else "") + content
    pve_config.assert_valid(path, full)
    return TextFile(content, comment)


def render(infra: Infra, placement: Placement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    passed_by_host: dict[str, list[Gpu]] = {}
    for name, spec in _proxmox_workloads(infra):
        gpus = _passed_gpus(infra, placement, name)
        options = vm_options(infra, name, spec, gpus)
        path = f"proxmox/{spec['host']}/qemu-server/{spec['vmid']}.conf"
        out[path] = _text(path, templates().get_template("qemu-server.conf.j2").render(options=options.items()))
        for gpu in gpus:
            passed_by_host.setdefault(gpu.host, []).append(gpu)

    sections: dict[str, list[str]] = {}
    for gpus in passed_by_host.values():
        for gpu in gpus:
            if gpu.pci_id:
                sections.setdefault(mapping_id(gpu), []).append(map_entry(infra, gpu))
    if sections:
        content = templates().get_template("pci.cfg.j2").render(
            sections=[(i, sorted(set(maps))) for i, maps in sorted(sections.items())])
        out[MAPPING_FILE] = _text(MAPPING_FILE, content)

    for host, gpus in sorted(passed_by_host.items()):
        gpus = sorted(set(gpus), key=lambda g: g.key)
        base = f"proxmox/{host}/host"
        params = pve.iommu_params(infra.hosts[host].spec)
        out[f"{base}/cmdline"] = _text(f"{base}/cmdline", " ".join(params) + "\n", comment=None)
        out[f"{base}/modules"] = _text(f"{base}/modules", "".join(m + "\n" for m in VFIO_MODULES))
        out[f"{base}/modprobe.d/vfio.conf"] = _text(f"{base}/modprobe.d/vfio.conf", vfio_conf(infra, host, gpus))
    return dict(sorted(out.items()))
