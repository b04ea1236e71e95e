"""How detected values are written in infra.yml: PCI addresses, VRAM, vendors, models, architectures, names.

Every tool spells things its own way: nvidia-smi writes `00000000:3B:00.0`
(8-digit domain, upper case), lspci `0000:3b:00.0`; VRAM comes in MiB
(nvidia-smi, amd-smi's "MB") or bytes (rocm-smi); names come with or
without the vendor in front. These functions turn each into the one form
infra.yml uses (SPEC §2, schemas/infra.schema.json) and return None for a
value they cannot read, never raise.

Vendors and architectures come from the hardware tables (generator/hardware,
the ones the driver rules use): NVIDIA's architecture from the compute
capability, else from the chip's code name that lspci prints (`GB203` →
Blackwell), else from the PCI device ID; AMD's from the gfx target
(`gfx1100`) or the code name (`Navi 31`); Intel's from the code name (`DG2`).
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from generator.hardware import tables
from generator.hardware.rows import Architecture
from generator.placement.core import number

NAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
NAME_MAX = 63

_PCI = re.compile(r"(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])")
_HEX4 = re.compile(r"(?:0x)?([0-9a-fA-F]{1,4})")
_DRIVER = re.compile(r"\d+(?:\.\d+)*")
_CC = re.compile(r"(\d{1,2})\.(\d{1,2})")


def pci_address(text: object) -> str | None:
    """`00000000:3B:00.0`, `0000:3b:00.0` or `3b:00.0` -> `0000:3b:00.0`; None if it is not one.

    Domains beyond 16 bits (Intel VMD) cannot be written in infra.yml's
    4-digit form and are refused.
    """
    if not isinstance(text, str):
        return None
    match = _PCI.fullmatch(text.strip())
    if not match:
        return None
    domain, bus, device, function = match.groups()
    domain_number = int(domain or "0", 16)
    if domain_number > 0xFFFF or int(device, 16) > 0x1F:
        return None
    return f"{domain_number:04x}:{int(bus, 16):02x}:{int(device, 16):02x}.{function}"


def hex4(value: object) -> str | None:
    """`0x744c`, `744C`, 29772 -> `744c`."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"{value:04x}" if 0 <= value <= 0xFFFF else None
    if isinstance(value, str):
        match = _HEX4.fullmatch(value.strip())
        if match:
            return match.group(1).lower().rjust(4, "0")
    return None


def pci_id(vendor: object, device: object) -> str | None:
    v, d = hex4(vendor), hex4(device)
    return f"{v}:{d}" if v and d else None


def vendor_of_id(vendor_hex: str | None) -> str | None:
    """`10de` -> `nvidia`; None for a vendor the hardware tables do not know."""
    row = tables.vendor_by_pci_id(vendor_hex)
    return row.key if row else None


def vram_gb(mib: float | None) -> int | float | None:
    """GB as infra.yml counts them (GiB): whole when within 3% of a whole number, else to 0.1 GB.

    Drivers reserve some memory, so a 16 GB card reports 16303 MiB
    (15.92 GiB) and a 24 GB card 24564 MiB; inventories say 16 and 24, and
    so does detect. Small shares (an APU's 512 MiB) keep their size.
    """
    if mib is None or not (mib > 0) or mib == float("inf"):
        return None
    gib = mib / 1024
    whole = round(gib)
    if whole >= 1 and abs(gib - whole) <= 0.03 * whole:
        return whole
    return number(round(gib, 1) if gib >= 0.1 else round(gib, 3)) or None


def vram_gb_from_bytes(size: float | None) -> int | float | None:
    return vram_gb(size / (1024 * 1024)) if size is not None else None


def to_number(text: object) -> float | None:
    """`16303`, `"16303 MiB"`, `"300.00 W"`, 16303.0 -> a finite number; None for N/A and the like."""
    if isinstance(text, bool):
        return None
    if isinstance(text, str):
        match = re.fullmatch(r"\s*([0-9]{1,30}(?:\.[0-9]{1,30})?)\s*[A-Za-z/]*\s*", text)
        if not match:
            return None
        text = match.group(1)
    elif not isinstance(text, (int, float)):
        return None
    try:
        value = float(text)
    except OverflowError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def driver_version(text: object) -> str | None:
    """`575.64.03` as is; `6.8.5-2041575.24.04` -> `6.8.5` (infra.yml's `driver` is dotted numbers)."""
    if not isinstance(text, str):
        return None
    match = _DRIVER.match(text.strip())
    return match.group(0) if match and len(match.group(0)) <= 32 else None


def compute_capability(text: object) -> str | None:
    """`12.0` -> `12.0`; `[N/A]` -> None."""
    if not isinstance(text, str):
        return None
    match = _CC.fullmatch(text.strip())
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None


_VENDOR_WORDS = re.compile(r"^(?:NVIDIA(?: Corporation)?|AMD|ATI|Advanced Micro Devices,? Inc\.?(?: \[AMD/ATI\])?"
                           r"|Intel(?: Corporation)?)\s+", re.IGNORECASE)
_TRADEMARKS = re.compile(r"\((?:TM|R)\)|™|®", re.IGNORECASE)
_BRACKETED = re.compile(r"[^\[\]]*\[([^\[\]]+)\]\s*")


def model_name(text: object) -> str | None:
    """`NVIDIA GeForce RTX 5070 Ti` -> `GeForce RTX 5070 Ti`; `Navi 31 [Radeon RX 7900 XTX]` -> `Radeon RX 7900 XTX`.

    The vendor goes (the `vendor` key says it), and where a name is a chip
    code name followed by the product in brackets (pci.ids' style, also
    printed by older rocm-smi and amd-smi) the product is kept.
    """
    if not isinstance(text, str):
        return None
    name = " ".join(_TRADEMARKS.sub("", text).split())
    bracketed = _BRACKETED.fullmatch(name)
    if bracketed:
        name = bracketed.group(1).strip()
    name = _VENDOR_WORDS.sub("", name).strip()
    if not name or name.upper() in {"N/A", "NA", "UNKNOWN"} or len(name) > 200:
        return None
    return name


def _from_nvidia_smi(row: Architecture | None) -> str | None:
    """An NVIDIA architecture as nvidia-smi's answers give it (compute capability, product_architecture):
    only those whose driver psot judges (a minimum driver in the tables). Fermi and Kepler, whose last
    branches (R390, R470) psot does not judge, are named from their chip code name alone."""
    return row.name if row is not None and row.minimum_driver is not None else None


def nvidia_architecture(named: object) -> str | None:
    """nvidia-smi's `product_architecture` (`Ada Lovelace`) -> `ada`, by the hardware tables' names."""
    if not isinstance(named, str):
        return None
    return _from_nvidia_smi(tables.architecture("nvidia", named))


def architecture(vendor: str | None, *, compute_cap: str | None = None, chip: str | None = None,
                 pci_id_: str | None = None, gfx: str | None = None) -> str | None:
    """The architecture name infra.yml uses, from whatever is known; None rather than a guess."""
    if vendor is None:
        return None
    found = _from_nvidia_smi(tables.by_compute_capability(vendor, compute_cap)) if compute_cap else None
    if found is None and gfx:
        found = _name(tables.by_gfx(vendor, gfx))
    if found is None and chip:
        found = _name(tables.by_chip(vendor, chip))
    if found is None and pci_id_:
        found = _name(tables.by_pci_id(vendor, pci_id_))
    return found


def _name(row: Architecture | None) -> str | None:
    return row.name if row is not None else None


# Brand words that say the vendor or the product line, not the card: "GeForce RTX 5070 Ti" -> rtx-5070-ti.
_BRAND_WORDS = {"nvidia", "geforce", "amd", "radeon", "intel", "tesla", "instinct", "ati"}


def gpu_name(model: str | None, vendor: str | None, pci_id_: str | None) -> str:
    """A GPU name from its model (`rtx-5070-ti`, `gtx-970`, `rtx-a5500`), valid for the schema's pattern.

    Without a model: the vendor and device ID (`nvidia-2c05`), else `gpu`.
    """
    words = [w for w in re.split(r"[^a-z0-9]+", (model or "").lower()) if w and w not in _BRAND_WORDS]
    name = "-".join(words)
    if not name:
        device = pci_id_.split(":")[1] if pci_id_ and ":" in pci_id_ else ""
        name = "-".join(p for p in (vendor or "", device) if p) or "gpu"
    name = name[:NAME_MAX].strip("-")
    return name if NAME_PATTERN.fullmatch(name) else "gpu"


def unique_names(wanted: list[str], taken: AbstractSet[str] = frozenset()) -> list[str]:
    """`[rtx-a5500, rtx-a5500]` -> `[rtx-a5500, rtx-a5500-2]`, in the given order (callers sort by PCI address).

    `taken`: names already used on the host (an inventory's), which new names avoid.
    """
    used = set(taken)
    out = []
    for name in wanted:
        candidate, n = name, 1
        while candidate in used:
            n += 1
            suffix = f"-{n}"
            candidate = name[:NAME_MAX - len(suffix)].rstrip("-") + suffix
        used.add(candidate)
        out.append(candidate)
    return out


def host_name(text: str) -> str | None:
    """This machine's hostname as a psot name: `Ws.lan` -> `ws`; None when nothing usable is left."""
    short = text.split(".")[0].lower()
    name = re.sub(r"[^a-z0-9-]+", "-", short).strip("-")[:NAME_MAX].strip("-")
    return name if NAME_PATTERN.fullmatch(name or "-") else None


# --- Identity and memory of a card (uuid, subsystem, kernel driver, APUs) --------------------------------

# nvidia-smi(1), `uuid`: "the globally unique immutable alphanumeric identifier of the GPU", printed as
# GPU- and a UUID in its 8-4-4-4-12 hex form; infra.yml's `uuid` pattern is the same.
NVIDIA_UUID = re.compile(r"GPU-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MODULE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def nvidia_uuid(text: object) -> str | None:
    """`GPU-5f0e6c1a-2b7d-4c39-9e84-1d2a3b4c5d6e` as printed; None for `[N/A]` or anything else."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    return text if NVIDIA_UUID.fullmatch(text) else None


def kernel_module(text: object) -> str | None:
    """A kernel driver's name as lspci -k prints it (`nvidia`, `vfio-pci`, `snd_hda_intel`); None otherwise."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    return text if _MODULE.fullmatch(text) else None


def class_code(text: object) -> str | None:
    """The PCI class and subclass lspci -nn prints in brackets: `0403`."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9a-fA-F]{4}", text.strip()):
        return None
    return text.strip().lower()


def id_pair_high_low(text: object) -> str | None:
    """nvidia-smi's packed IDs, device in the high 16 bits and vendor in the low: `8A151043` -> `1043:8a15`."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"(?:0x)?([0-9a-fA-F]{4})([0-9a-fA-F]{4})", text.strip())
    return f"{match.group(2).lower()}:{match.group(1).lower()}" if match else None


# The LLVM AMDGPU processor table (https://llvm.org/docs/AMDGPUUsage.html#processors) marks each gfx
# target dGPU or APU. APUs have no memory of their own: their "VRAM" is the carve-out the BIOS reserves
# in system memory (amdgpu_drm.h, AMDGPU_GEM_DOMAIN_VRAM: "For APUs, it is memory carved out by the
# BIOS"), and the GPU addresses system memory through the GTT (AMDGPU_GEM_DOMAIN_GTT); ROCm's "AMD
# RDNA3.5 system optimization" describes the same for gfx1150-gfx1152.
AMD_APU_GFX = frozenset({"gfx700", "gfx703", "gfx705", "gfx801", "gfx810", "gfx902", "gfx909", "gfx90c",
                         "gfx1013", "gfx1033", "gfx1035", "gfx1036", "gfx1103", "gfx1150", "gfx1151",
                         "gfx1152", "gfx1210"})
# amd-smi static's `vram.type` names amdsmi_vram_type_t without its prefix (amdsmi.h): HBM and GDDR are a
# card's own memory; DDR and LPDDR are system memory, which is what an APU's carve-out is.
_SYSTEM_MEMORY_TYPES = re.compile(r"(?:LP)?DDR\d?X?", re.IGNORECASE)


def amd_memory(gfx: str | None, vram_type: object = None) -> str | None:
    """`unified` when the gfx target is an APU's or the VRAM is system memory (DDR, LPDDR); else None."""
    if gfx and gfx.lower() in AMD_APU_GFX:
        return "unified"
    if isinstance(vram_type, str) and _SYSTEM_MEMORY_TYPES.fullmatch(vram_type.strip()):
        return "unified"
    return None
