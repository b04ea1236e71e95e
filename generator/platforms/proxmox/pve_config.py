"""Offline validator of the Proxmox VE files psot writes: qm.conf and mapping/pci.cfg.

SPEC §5 asks every generated file to be accepted by "the documented qm.conf
key formats for Proxmox". There is no Proxmox validator that runs without a
Proxmox node, so this module reads the two formats as Proxmox documents and
parses them, and checks psot's output against them (the Proxmox renderer
calls it on every file it renders; a failure there is a psot bug).

Sources (read, not copied):

- qm.conf(5) and the `qm config` API schema
  (https://pve.proxmox.com/pve-docs/qm.conf.5.html,
  https://pve.proxmox.com/pve-docs/api-viewer/ `nodes/{node}/qemu/{vmid}/config`):
  the option names, `cores` (integer >= 1), `memory` (`[current=]<MiB>`,
  >= 16), `bios` (seabios | ovmf), `ostype` (enum), `name` (a DNS name),
  `machine` (`[[type=]<machine type>][,viommu=<intel|virtio>]`).
- modules-load.d(5) (/etc/modules: a module name a line, `#`/`;` comments),
  modprobe.d(5) (`blacklist`, `options`, `softdep` lines, and psot's one
  `install vfio-pci` command: `echo vfio-pci >` the `driver_override` of
  PCI addresses, then `/sbin/modprobe --ignore-install vfio-pci
  $CMDLINE_OPTS`) and
  proxmox-boot-tool's /etc/kernel/cmdline (the whole command line on one
  line): checked as far as psot writes them.
- qemu-server `PVE/QemuServer/PCI.pm` (github.com/proxmox/qemu-server): the
  `hostpci0`..`hostpci15` property string: default key `host`
  (`HOSTPCIID[;HOSTPCIID...]`, lower-case hex `[domain:]bus:dev[.fn]`; the
  slot form without `.fn`, `0000:01:00`, is the whole device: every
  function of it, as `parse_hostpci` lists them with `SysFSTools::lspci`) or
  `mapping=<config id>` (exactly one of the two); `pcie`, `x-vga`, `rombar`,
  `legacy-igd` booleans; `romfile` (no `,` `;`), `mdev` (no `/` `.` `:`),
  `vendor-id`/`device-id`/`sub-vendor-id`/`sub-device-id` (`0x` + 4 hex),
  `driver` (`vfio` | `keep`); `pcie=1` needs a q35 machine ("q35 machine
  model is not enabled").
- qemu-server `PVE/QemuServer/Drive.pm`: `efidisk0` (`[file=]<volume>`,
  `efitype` 2m|4m, `pre-enrolled-keys` boolean, `format`, `size`,
  `ms-cert`) and `tpmstate0` (`[file=]<volume>`, `version` v1.2|v2.0,
  `size`); psot writes the volume as `STORAGE_ID:SIZE` (allocate a new
  one, the "special syntax" of `qm set`), the storage ID as pve-common's
  `parse_storage_id` allows (`[a-z][a-z0-9._-]*[a-z0-9]`, case-insensitive).
- qemu-server `PVE/QemuServer/Machine.pm`: the machine type format (`pc`,
  `pc[-i440fx]-X.Y[+pveN][.pxe]`, `q35`, `pc-q35-X.Y[+pveN][.pxe]`, `virt[-X.Y]`, at
  most 40 characters) and "q35" meaning a type containing `q35`.
- qemu-server `parse_vm_config`: a config is `#` description lines, then
  `key: value` lines (key `[a-z][a-z_-]*\\d*`); psot writes no snapshot or
  `[PENDING]` sections, so any `[...]` section is refused here.
- pve-common `PVE/SectionConfig.pm` and pve-guest-common
  `src/PVE/Mapping/PCI.pm`: `/etc/pve/mapping/pci.cfg` is a SectionConfig
  without type prefix: a header line `<id>` (a config id,
  `[a-z][a-z0-9_-]+`, case-insensitive), then tab-indented `key value`
  lines, the section ending at an empty line; `#` lines are ignored.
  Properties: `map` (repeatable; `node=<node>,path=<pci>[;<pci>...],id=<vvvv:dddd>`
  with optional `subsystem-id`, `iommugroup`, `description`; a path without
  its function maps the whole device, "use the attributes of the first
  device"), `description`, `mdev`, `live-migration-capable`. `map` is
  required.
- pve-common `PVE/JSONSchema.pm`: property strings split at `,`, `k=v` or the
  default key alone, no duplicate keys, no unknown keys; booleans are
  `1|on|yes|true|0|off|no|false`; config ids and node names.

Options psot does not write are accepted by name only (their value formats
are not checked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_HOSTPCI = 16

CONFIG_ID = re.compile(r"[a-z][a-z0-9_-]+", re.IGNORECASE)
NODE_NAME = re.compile(r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?")
_DNS_LABEL = r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?"
DNS_NAME = re.compile(rf"({_DNS_LABEL}\.)*{_DNS_LABEL}")
HOSTPCI_ID = re.compile(r"(?:[a-f0-9]{4,}:)?[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?")
MAPPING_PATH = re.compile(r"[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?")
VENDOR_DEVICE = re.compile(r"[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}")
HEX_ID = re.compile(r"0x[0-9a-fA-F]{4}")
_VERSION = r"-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?"
MACHINE_TYPE = re.compile(rf"pc|pc(-i440fx)?{_VERSION}|q35|pc-q35{_VERSION}|virt(-\d+(\.\d+)+)?(\+pve\d+)?")
MACHINE_TYPE_MAX = 40

BIOS = ("seabios", "ovmf")
OSTYPES = ("other", "wxp", "w2k", "w2k3", "w2k8", "wvista", "win7", "win8", "win10", "win11",
           "l24", "l26", "solaris")
_TRUE = ("1", "on", "yes", "true")
_FALSE = ("0", "off", "no", "false")

# qm.conf(5): options without an index, and indexed ones with their highest index.
PLAIN_KEYS = frozenset("""
    acpi affinity agent allow-ksm amd-sev arch args autostart balloon bios boot bootdisk cdrom
    cicustom cipassword citype ciupgrade ciuser cores cpu cpulimit cpuunits description digest
    freeze hookscript hotplug hugepages intel-tdx ivshmem keephugepages keyboard kvm localtime lock
    machine memory meta migrate_downtime migrate_speed name nameserver numa onboot ostype protection
    reboot scsihw searchdomain shares smp sockets spice_enhancements sshkeys startdate startup
    tablet tags tdf template vcpus vga vmgenid vmstatestorage watchdog
""".split())
INDEXED_KEYS = {
    "audio": 0, "efidisk": 0, "hostpci": MAX_HOSTPCI - 1, "ide": 3, "ipconfig": 31, "net": 31,
    "numa": 7, "parallel": 2, "rng": 0, "sata": 5, "scsi": 30, "serial": 3, "smbios": 1,
    "tpmstate": 0, "unused": 255, "usb": 29, "virtio": 15, "virtiofs": 9,
}

_KEY_LINE = re.compile(r"([a-z][a-z_-]*\d*):\s*(.+?)\s*")
_INDEXED = re.compile(r"([a-z][a-z_-]*?)(\d+)")


class PveConfigError(ValueError):
    """A Proxmox file psot rendered is not in the format Proxmox reads."""


# --- values -------------------------------------------------------------------------------------

def parse_bool(value: str) -> bool | None:
    low = value.lower()
    return True if low in _TRUE else False if low in _FALSE else None


def parse_property_string(value: str, keys: tuple[str, ...], default_key: str | None) -> dict[str, str]:
    """`a,k=v,...` as PVE::JSONSchema reads it; raises ValueError on an unknown or repeated key."""
    out: dict[str, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        if "=" in part:
            key, _, val = part.partition("=")
            if not val:
                raise ValueError(f"{key!r} has no value")
        elif default_key is not None:
            key, val = default_key, part
        else:
            raise ValueError(f"{part!r} is not key=value")
        if key not in keys:
            raise ValueError(f"invalid key {key!r}")
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = val
    return out


def is_config_id(value: str) -> bool:
    """A Proxmox config id (a mapping id): a letter, then letters, digits, `_`, `-`; 2+ characters."""
    return CONFIG_ID.fullmatch(value) is not None


def is_dns_name(value: str) -> bool:
    return DNS_NAME.fullmatch(value) is not None


def machine_problem(value: str) -> str | None:
    """Why `value` is not a valid `machine:` value, or None."""
    try:
        parts = parse_property_string(value, ("type", "viommu"), "type")
    except ValueError as exc:
        return str(exc)
    machine_type = parts.get("type")
    if machine_type is not None and (len(machine_type) > MACHINE_TYPE_MAX
                                     or not MACHINE_TYPE.fullmatch(machine_type)):
        return (f"machine type {machine_type!r} is not one of pc, pc-i440fx-X.Y, q35, pc-q35-X.Y, virt "
                "(optionally +pveN, .pxe)")
    viommu = parts.get("viommu")
    if viommu is not None and viommu not in ("intel", "virtio"):
        return f"viommu must be intel or virtio, not {viommu!r}"
    if viommu == "intel" and not is_q35(value):
        return "viommu=intel needs a q35 machine type"
    return None


def is_q35(machine: str | None) -> bool:
    """What qemu-server calls a q35 machine: a machine type containing `q35`."""
    if not machine:
        return False
    try:
        return "q35" in parse_property_string(machine, ("type", "viommu"), "type").get("type", "")
    except ValueError:
        return False


_HOSTPCI_KEYS = ("host", "mapping", "pcie", "x-vga", "rombar", "romfile", "legacy-igd", "mdev",
                 "vendor-id", "device-id", "sub-vendor-id", "sub-device-id", "driver")
_HOSTPCI_BOOLS = ("pcie", "x-vga", "rombar", "legacy-igd")


def hostpci_problems(value: str, machine: str | None) -> list[str]:
    try:
        parts = parse_property_string(value, _HOSTPCI_KEYS, "host")
    except ValueError as exc:
        return [str(exc)]
    problems = []
    host, mapping = parts.get("host"), parts.get("mapping")
    if host is not None and mapping is not None:
        problems.append("cannot set both 'host' and 'mapping'")
    if host is None and mapping is None:
        problems.append("either 'host' or 'mapping' must be set")
    if host is not None and not all(HOSTPCI_ID.fullmatch(h) for h in host.split(";")):
        problems.append(f"host '{host}' is not HOSTPCIID[;HOSTPCIID...] ([domain:]bus:dev[.fn], lower-case hex)")
    if mapping is not None and not is_config_id(mapping):
        problems.append(f"mapping '{mapping}' is not a config id")
    for key in _HOSTPCI_BOOLS:
        if key in parts and parse_bool(parts[key]) is None:
            problems.append(f"{key} must be a boolean (0/1), not '{parts[key]}'")
    for key in ("vendor-id", "device-id", "sub-vendor-id", "sub-device-id"):
        if key in parts and not HEX_ID.fullmatch(parts[key]):
            problems.append(f"{key} must be 0x followed by 4 hex digits, not '{parts[key]}'")
    if "romfile" in parts and re.search(r"[,;]", parts["romfile"]):
        problems.append("romfile may not contain ',' or ';'")
    if "mdev" in parts and re.search(r"[/.:]", parts["mdev"]):
        problems.append("mdev may not contain '/', '.' or ':'")
    if "driver" in parts and parts["driver"] not in ("vfio", "keep"):
        problems.append(f"driver must be vfio or keep, not '{parts['driver']}'")
    if parse_bool(parts.get("pcie", "0")) and not is_q35(machine):
        problems.append("pcie=1 needs a q35 machine (machine: q35)")
    if parse_bool(parts.get("legacy-igd", "0")) and (parse_bool(parts.get("x-vga", "0")) or is_q35(machine)):
        problems.append("legacy-igd is not compatible with x-vga or a q35 machine")
    return problems


STORAGE_ID = re.compile(r"[a-z][a-z0-9._-]*[a-z0-9]", re.IGNORECASE)
_VOLUME = re.compile(r"(?P<storage>[^:,=]+):(?P<rest>[^,=]+)")
_DISK_KEYS = {"efidisk": ("file", "format", "size", "efitype", "pre-enrolled-keys", "ms-cert"),
              "tpmstate": ("file", "format", "size", "version")}
_DISK_ENUMS = {"efitype": ("2m", "4m"), "version": ("v1.2", "v2.0"), "ms-cert": ("2011", "2023", "2023w", "2023k")}


def disk_problems(kind: str, value: str) -> list[str]:
    """Problems of an `efidisk0` or `tpmstate0` value, its volume `STORAGE:VOLUME` or `STORAGE:SIZE`."""
    try:
        parts = parse_property_string(value, _DISK_KEYS[kind], "file")
    except ValueError as exc:
        return [str(exc)]
    problems = []
    volume = _VOLUME.fullmatch(parts.get("file", ""))
    if volume is None:
        problems.append(f"'{parts.get('file', '')}' is not a volume STORAGE:VOLUME or STORAGE:SIZE")
    elif not STORAGE_ID.fullmatch(volume.group("storage")):
        problems.append(f"'{volume.group('storage')}' is not a storage ID")
    for key, allowed in _DISK_ENUMS.items():
        if key in parts and parts[key] not in allowed:
            problems.append(f"{key} must be one of {', '.join(allowed)}, not '{parts[key]}'")
    if "pre-enrolled-keys" in parts and parse_bool(parts["pre-enrolled-keys"]) is None:
        problems.append("pre-enrolled-keys must be a boolean (0/1)")
    return problems


def _int_problem(value: str, minimum: int) -> str | None:
    if not re.fullmatch(r"\d+", value) or int(value) < minimum:
        return f"must be an integer >= {minimum}, not '{value}'"
    return None


def option_problems(key: str, value: str, machine: str | None) -> list[str]:
    """Problems of one `key: value` (only the options psot writes are checked beyond their name)."""
    if key == "cores" or key == "sockets":
        problem = _int_problem(value, 1)
    elif key == "memory":
        problem = _int_problem(value.removeprefix("current="), 16)
    elif key == "bios":
        problem = None if value in BIOS else f"must be one of {', '.join(BIOS)}, not '{value}'"
    elif key == "ostype":
        problem = None if value in OSTYPES else f"must be one of {', '.join(OSTYPES)}, not '{value}'"
    elif key == "name":
        problem = None if is_dns_name(value) else f"'{value}' is not a DNS name"
    elif key == "machine":
        problem = machine_problem(value)
    elif key.startswith("hostpci"):
        return hostpci_problems(value, machine)
    elif key in ("efidisk0", "tpmstate0"):
        return disk_problems(key[:-1], value)
    else:
        problem = None
    return [problem] if problem else []


def key_allowed(key: str) -> bool:
    if key in PLAIN_KEYS:
        return True
    match = _INDEXED.fullmatch(key)
    if not match or match.group(1) not in INDEXED_KEYS:
        return False
    index = match.group(2)
    return (index == "0" or not index.startswith("0")) and int(index) <= INDEXED_KEYS[match.group(1)]


# --- qm.conf --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VmConfig:
    description: tuple[str, ...]                        # the leading `#` lines, without `#`
    options: dict[str, str] = field(default_factory=dict)  # key -> value, in file order


def parse_qm_conf(text: str) -> tuple[VmConfig, list[str]]:
    """The config and the syntax problems (`line N: ...`) of a qm.conf text."""
    description: list[str] = []
    options: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if "\r" in line:
            problems.append(f"line {number}: carriage return")
        if not line.strip():
            continue
        if line.startswith("#"):
            if options:
                problems.append(f"line {number}: '#' comment after the first option (the description "
                                "comes first)")
            else:
                description.append(line[1:])
            continue
        if line.startswith("["):
            problems.append(f"line {number}: section {line.strip()} (psot writes no snapshot or pending "
                            "sections)")
            continue
        match = _KEY_LINE.fullmatch(line)
        if not match:
            problems.append(f"line {number}: not a 'key: value' line: {line!r}")
            continue
        key, value = match.groups()
        if key in options:
            problems.append(f"line {number}: duplicate key '{key}'")
            continue
        options[key] = value
    return VmConfig(tuple(description), options), problems


def check_qm_conf(text: str) -> list[str]:
    """Every problem of a qm.conf text; empty when Proxmox would read it as written."""
    config, problems = parse_qm_conf(text)
    if not text.endswith("\n"):
        problems.append("file does not end with a newline")
    machine = config.options.get("machine")
    for key, value in config.options.items():
        if not key_allowed(key):
            hint = f" (hostpci0 to hostpci{MAX_HOSTPCI - 1} only)" if key.startswith("hostpci") else ""
            problems.append(f"{key}: unknown option{hint}")
            continue
        problems += [f"{key}: {p}" for p in option_problems(key, value, machine)]
    return problems


# --- mapping/pci.cfg ------------------------------------------------------------------------------

_MAP_KEYS = ("node", "path", "id", "subsystem-id", "iommugroup", "description")
_SECTION_KEYS = ("map", "description", "mdev", "live-migration-capable")
_PROPERTY_LINE = re.compile(r"\s+(\S+)(?:\s+(.*\S))?\s*")


def map_problems(value: str) -> list[str]:
    try:
        parts = parse_property_string(value, _MAP_KEYS, None)
    except ValueError as exc:
        return [str(exc)]
    problems = [f"'{k}' is required" for k in ("node", "path", "id") if k not in parts]
    if "node" in parts and not NODE_NAME.fullmatch(parts["node"]):
        problems.append(f"node '{parts['node']}' is not a node name")
    if "path" in parts and not all(MAPPING_PATH.fullmatch(p) for p in parts["path"].split(";")):
        problems.append(f"path '{parts['path']}' is not domain:bus:dev[.fn][;...] (lower-case hex)")
    for key in ("id", "subsystem-id"):
        if key in parts and not VENDOR_DEVICE.fullmatch(parts[key]):
            problems.append(f"{key} '{parts[key]}' is not vvvv:dddd")
    if "iommugroup" in parts and not re.fullmatch(r"\d+", parts["iommugroup"]):
        problems.append(f"iommugroup '{parts['iommugroup']}' is not an integer")
    return problems


def parse_pci_cfg(text: str) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    """Sections `{id: {key: [values]}}` and the syntax problems of a pci.cfg text."""
    sections: dict[str, dict[str, list[str]]] = {}
    problems: list[str] = []
    current: dict[str, list[str]] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if line == "":
            current = None  # SectionConfig ends a section at an empty line
            continue
        if re.fullmatch(r"\s*(#.*)?", line):
            continue
        if current is None:
            match = re.fullmatch(r"(\S+)\s*", line)
            if not match:
                problems.append(f"line {number}: expected a section header '<id>', got {line!r}")
                continue
            section_id = match.group(1)
            if not is_config_id(section_id):
                problems.append(f"line {number}: '{section_id}' is not a config id ([a-z][a-z0-9_-]+)")
            if section_id in sections:
                problems.append(f"line {number}: duplicate section '{section_id}'")
            current = sections.setdefault(section_id, {})
            continue
        match = _PROPERTY_LINE.fullmatch(line)
        if not match:
            problems.append(f"line {number}: not an indented property line (sections are separated by an "
                            f"empty line): {line!r}")
            continue
        key, value = match.group(1), match.group(2)
        current.setdefault(key, []).append(value or "")
    return sections, problems


def check_pci_cfg(text: str) -> list[str]:
    """Every problem of a mapping/pci.cfg text; empty when Proxmox would read it as written."""
    sections, problems = parse_pci_cfg(text)
    if text and not text.endswith("\n"):
        problems.append("file does not end with a newline")
    for section_id, props in sections.items():
        for key, values in props.items():
            if key not in _SECTION_KEYS:
                problems.append(f"{section_id}: unexpected property '{key}'")
            elif key != "map" and len(values) > 1:
                problems.append(f"{section_id}: duplicate property '{key}'")
            elif key in ("mdev", "live-migration-capable") and parse_bool(values[0]) is None:
                problems.append(f"{section_id}: {key} must be a boolean")
            elif key == "description" and len(values[0]) > 4096:
                problems.append(f"{section_id}: description is longer than 4096 characters")
        if not props.get("map"):
            problems.append(f"{section_id}: no 'map' entry")
        for value in props.get("map", []):
            problems += [f"{section_id}: map {value!r}: {p}" for p in map_problems(value)]
    return problems


# --- host preparation ------------------------------------------------------------------------------

_CMDLINE_PARAM = re.compile(r"[a-z][a-z0-9_.-]*(=[A-Za-z0-9_.,:-]+)?")
_MODULE = re.compile(r"[a-z0-9_-]+")
_PCI_ADDRESS = r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]"
_MODPROBE_LINE = re.compile(
    r"(blacklist (?P<b>[a-z0-9_-]+)"
    r"|options (?P<o>[a-z0-9_-]+)( [a-z0-9_]+=[A-Za-z0-9_.,:-]+)+"
    r"|softdep (?P<s>[a-z0-9_-]+)( (pre|post):( [a-z0-9_-]+)+)+"
    rf"|install vfio-pci( echo vfio-pci > /sys/bus/pci/devices/{_PCI_ADDRESS}/driver_override;)+"
    r" /sbin/modprobe --ignore-install vfio-pci \$CMDLINE_OPTS)")


def check_kernel_cmdline(text: str) -> list[str]:
    """/etc/kernel/cmdline (proxmox-boot-tool): one line of space-separated parameters, no comments."""
    if text.count("\n") != 1 or not text.endswith("\n"):
        return ["the kernel command line must be exactly one line"]
    return [f"'{p}' is not a kernel parameter" for p in text.split()
            if not _CMDLINE_PARAM.fullmatch(p)] or ([] if text.strip() else ["empty command line"])


def check_modules(text: str) -> list[str]:
    """/etc/modules (modules-load.d(5)): one module name a line; `#` and `;` lines are comments."""
    return [f"line {n}: '{line}' is not a module name" for n, line in enumerate(text.splitlines(), 1)
            if line and line[0] not in "#;" and not _MODULE.fullmatch(line)]


def check_modprobe_conf(text: str) -> list[str]:
    """A modprobe.d(5) file, limited to the commands psot writes: blacklist, options, softdep, its install."""
    return [f"line {n}: not a blacklist/options/softdep/install command: {line!r}"
            for n, line in enumerate(text.splitlines(), 1)
            if line and not line.startswith("#") and not _MODPROBE_LINE.fullmatch(line)]


def assert_valid(path: str, text: str) -> None:
    """Raise PveConfigError when `text` (a file at `path` of the generated tree) is not valid."""
    if path.endswith("/pci.cfg"):
        problems = check_pci_cfg(text)
    elif path.endswith(".conf") and "/qemu-server/" in path:
        problems = check_qm_conf(text)
    elif path.endswith("/host/cmdline"):
        problems = check_kernel_cmdline(text)
    elif path.endswith("/host/modules"):
        problems = check_modules(text)
    elif "/modprobe.d/" in path:
        problems = check_modprobe_conf(text)
    else:
        raise ValueError(f"no Proxmox validator for {path}")
    if problems:
        raise PveConfigError(f"{path}: " + "; ".join(problems))
