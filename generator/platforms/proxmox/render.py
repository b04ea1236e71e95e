"""Proxmox VE: VM configs with PCI passthrough, the cluster PCI mappings, host vfio preparation.

Files (SPEC §5), all text by nature (serialize.TextFile):

`proxmox/<host>/qemu-server/<vmid>.conf` — for every workload with
`target: proxmox`, with or without a GPU (a VM whose GPU went away must show
its `hostpciN` lines leaving in the plan, not keep a stale file). It holds
the options psot owns, in qm.conf format, keys sorted as `qm config` prints
them; psot's header is the first line of the VM's description. Apply sets
these options on the VM (`qm set`), it does not replace the file: disks,
networks and the EFI vars disk stay as Proxmox allocated them.

- `hostpciN`, one per GPU placement passed through to the VM, in placement
  order: the GPU's `pci` address, or `mapping=<id>` when the GPU has a
  `mapping` name (and a `pci_id`, without which its mapping cannot be
  written, see PASS004); `pcie=1` when the machine is a q35 one; `x-vga=1`
  on the first GPU with `primary_display: true`. A workload with
  `gpu.passthrough: false` gets no `hostpciN`: psot renders whole-device
  passthrough only (no mediated devices).
- `bios` and `machine`: as infra.yml says; a VM with a passed-through GPU
  defaults to `bios: ovmf` and `machine: q35` (PCIe passthrough of a
  modern GPU). Without a GPU they are written only when infra.yml sets them.
- `cores`, `memory` (from `memory_mb`), `ostype`: written only when set;
  Proxmox's own defaults apply otherwise. `name`: infra.yml's, else the
  workload name.
- `efidisk0` is not written: it names a storage and a volume that Proxmox
  allocates (`qm set <vmid> --efidisk0 <storage>:1,efitype=4m`); psot knows
  neither. OVMF without it still boots, with EFI variables that are not
  kept across restarts (Proxmox warns so at start).

`proxmox/mapping/pci.cfg` — one section per mapping id with one `map` line
per GPU passed through to a Proxmox VM that has a `pci_id`:
`map id=<pci_id>,node=<host>,path=<pci>` (property keys in the order
Proxmox prints them). The id is the GPU's `mapping` name, else
`<host>-<gpu>` (rule PVE003 checks both are Proxmox config ids). GPUs that
share a `mapping` name are one cluster mapping with a `map` line per node.
psot does not know `iommugroup` and `subsystem-id`: Proxmox checks them
against the hardware when present and reports the mapping incomplete when
absent, so add them in the GUI (or infra.yml, once the schema carries
them) before a VM uses `mapping=`.

`proxmox/<host>/host/...` — for every host that passes a GPU through to a
Proxmox VM:

- `cmdline`: the kernel parameters the IOMMU needs, one line and no header
  (`/etc/kernel/cmdline` is read as one line: a comment would become a
  kernel parameter): `intel_iommu=on iommu=pt` or `amd_iommu=on iommu=pt`
  by `cpu_vendor`; without `cpu_vendor` both vendor switches (each kernel
  ignores the other vendor's). Apply adds the ones missing from the
  host's command line (systemd-boot `/etc/kernel/cmdline`, or GRUB's
  `GRUB_CMDLINE_LINUX_DEFAULT`), it does not replace it.
- `modules`: `vfio`, `vfio_iommu_type1`, `vfio_pci` (for /etc/modules).
- `modprobe.d/vfio.conf`: `options vfio-pci ids=<pci_id,...>` (sorted,
  unique, the passed-through GPUs only), then per vendor of a
  passed-through GPU its host drivers: `blacklist` when no GPU of that
  vendor stays with the host, else `softdep <driver> pre: vfio-pci` (the
  host keeps its driver for the GPUs it still uses, and vfio-pci claims
  the passed-through one first). NVIDIA: `nouveau` is always blacklisted
  (seed 000; psot's NVIDIA GPUs run NVIDIA's driver) and `nvidia` as
  above; AMD: `amdgpu`, `radeon`; Intel: `i915`, `xe` (the vendor rows of
  generator/hardware).

Every file is checked by generator.platforms.proxmox.pve_config before it is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.hardware import tables
from generator.model.core import Gpu, Infra
from generator.placement.core import Placement
from generator.platforms.proxmox import pve_config
from generator.serialize import TextFile, header, templates

MAPPING_FILE = "proxmox/mapping/pci.cfg"
VFIO_MODULES = ("vfio", "vfio_iommu_type1", "vfio_pci")
IOMMU_PARAMS = {"intel": ("intel_iommu=on",), "amd": ("amd_iommu=on",), None: ("intel_iommu=on", "amd_iommu=on")}


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


def _hostpci(gpu: Gpu, q35: bool, primary: bool) -> str:
    mapping = gpu.mapping
    value = f"mapping={mapping}" if mapping and gpu.pci_id else gpu.pci
    if value is None:   # PASS003 stops a passed-through GPU without a PCI address before rendering
        raise ValueError(f"{gpu.key} has no PCI address to pass through")
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
    q35 = pve_config.is_q35(machine)
    primary = next((g.key for g in gpus if gpu_spec(infra, g).get("primary_display")), None)
    for index, gpu in enumerate(gpus):
        options[f"hostpci{index}"] = _hostpci(gpu, q35, gpu.key == primary)
    return dict(sorted(options.items()))


def vfio_conf(infra: Infra, host: str, passed: list[Gpu]) -> str:
    lines = []
    ids = sorted({g.pci_id.lower() for g in passed if g.pci_id})
    if ids:
        lines.append(f"options vfio-pci ids={','.join(ids)}")
    passed_keys = {g.key for g in passed}
    for vendor in sorted({g.vendor for g in passed}):
        stays = any(g.vendor == vendor and g.key not in passed_keys for g in infra.hosts[host].gpus)
        row = tables.vendor(vendor)
        lines += [f"blacklist {module}" for module in row.always_blacklisted]
        for driver in row.host_modules:
            lines.append(f"softdep {driver} pre: vfio-pci" if stays else f"blacklist {driver}")
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
                sections.setdefault(mapping_id(gpu), []).append(
                    f"id={gpu.pci_id.lower()},node={gpu.host},path={gpu.pci}")
    if sections:
        content = templates().get_template("pci.cfg.j2").render(
            sections=[(i, sorted(set(maps))) for i, maps in sorted(sections.items())])
        out[MAPPING_FILE] = _text(MAPPING_FILE, content)

    for host, gpus in sorted(passed_by_host.items()):
        gpus = sorted(set(gpus), key=lambda g: g.key)
        base = f"proxmox/{host}/host"
        vendor = infra.hosts[host].cpu_vendor
        out[f"{base}/cmdline"] = _text(f"{base}/cmdline", " ".join(IOMMU_PARAMS[vendor] + ("iommu=pt",)) + "\n",
                                       comment=None)
        out[f"{base}/modules"] = _text(f"{base}/modules", "".join(m + "\n" for m in VFIO_MODULES))
        out[f"{base}/modprobe.d/vfio.conf"] = _text(f"{base}/modprobe.d/vfio.conf", vfio_conf(infra, host, gpus))
    return dict(sorted(out.items()))
