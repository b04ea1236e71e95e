"""Lookups over the hardware tables: a GPU's vendor, architecture, SKU and CUDA release from what is known.

The tables are the vendor modules' rows (nvidia.py, amd.py, intel.py), put
together here. Every lookup reads them when it is called, so a new
generation is one row in its vendor's module and every lookup finds it: by
name, compute capability, chip code name, gfx target and PCI device ID alike.
"""

from __future__ import annotations

import re

from generator.hardware import amd, intel, nvidia
from generator.hardware.rows import Architecture, CudaRelease, Sku, Vendor

VENDORS: tuple[Vendor, ...] = (nvidia.VENDOR, amd.VENDOR, intel.VENDOR)
ARCHITECTURES: tuple[Architecture, ...] = nvidia.ARCHITECTURES + amd.ARCHITECTURES + intel.ARCHITECTURES
SKUS: tuple[Sku, ...] = nvidia.SKUS
CUDA_RELEASES: tuple[CudaRelease, ...] = nvidia.CUDA_RELEASES


def version(text: str) -> tuple[int, ...]:
    """`570.86.16` -> (570, 86, 16), `12.0` -> (12, 0): driver versions and compute capabilities
    compare number by number, so "575" is below every 575.x and "12.0" above "8.6"."""
    return tuple(int(part) for part in text.split("."))


def vendor(key: str) -> Vendor:
    """The row of infra.yml's `vendor`, which the schema limits to the table's keys."""
    for row in VENDORS:
        if row.key == key:
            return row
    raise KeyError(f"vendor {key!r} is not in generator/hardware")


def vendor_by_pci_id(vendor_hex: str | None) -> Vendor | None:
    """`10de` -> NVIDIA's row; None for a vendor ID the tables do not know."""
    return next((row for row in VENDORS if row.pci_vendor_id == vendor_hex), None)


def _folded(text: str) -> str:
    return " ".join(text.split()).lower()


def architecture(vendor: str, name: str) -> Architecture | None:
    """By infra.yml's name (`ada`) or the vendor's (`Ada Lovelace`, as nvidia-smi prints it), any case."""
    wanted = _folded(name)
    return next((row for row in ARCHITECTURES
                 if row.vendor == vendor and wanted in (row.name, _folded(row.display))), None)


def by_compute_capability(vendor: str, compute_capability: str) -> Architecture | None:
    """The generation whose lowest compute capability is the highest not above it: `8.6` -> Ampere."""
    wanted = version(compute_capability)
    found: Architecture | None = None
    found_lowest: tuple[int, int] | None = None
    for row in ARCHITECTURES:
        capabilities = row.compute_capability
        if row.vendor != vendor or capabilities is None or capabilities[0] > wanted:
            continue
        if found_lowest is None or capabilities[0] > found_lowest:
            found, found_lowest = row, capabilities[0]
    return found


def by_chip(vendor: str, chip: str) -> Architecture | None:
    """From a chip code name: `GB203` -> Blackwell, `Navi 31` -> RDNA 3, `DG2` -> Alchemist."""
    return next((row for row in ARCHITECTURES
                 if row.vendor == vendor and any(re.search(pattern, chip) for pattern in row.chips)), None)


def by_gfx(vendor: str, gfx: str) -> Architecture | None:
    """From an LLVM gfx target, the longest matching prefix: `gfx90a` -> CDNA 2, `gfx906` -> Vega."""
    target = gfx.lower()
    matches = [(len(prefix), row) for row in ARCHITECTURES if row.vendor == vendor
               for prefix in row.gfx_prefixes if target.startswith(prefix)]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def _device(vendor: str, pci_id: str) -> int | None:
    """The device number of a `vvvv:dddd` PCI ID of `vendor`'s; None for another vendor's."""
    vendor_hex, _, device = pci_id.partition(":")
    row = vendor_by_pci_id(vendor_hex)
    return int(device, 16) if row is not None and row.key == vendor else None


def by_pci_id(vendor: str, pci_id: str) -> Architecture | None:
    """`10de:2c05` -> Blackwell: the architecture whose PCI device range holds it; None outside them."""
    device = _device(vendor, pci_id)
    return next((row for row in ARCHITECTURES if device is not None and row.vendor == vendor
                 and any(low <= device <= high for low, high in row.pci_devices)), None)


def sku(vendor: str, pci_id: str) -> Sku | None:
    """`10de:2c05` -> the GeForce RTX 5070 Ti's row, for the products the tables list."""
    device = _device(vendor, pci_id)
    return next((row for row in SKUS if row.vendor == vendor and row.device == device), None)


def chip_minimum(product: Sku) -> str | None:
    """The first driver that knows `product`'s chip: the lowest minimum among the listed products of that chip
    (GB203: the RTX 5080's 570.86.16, before the RTX 5070 Ti's 570.123.01); the product's own without a chip."""
    same_chip = [row.minimum_driver for row in SKUS if row.minimum_driver is not None and (
        row is product or (product.chip is not None and row.vendor == product.vendor and row.chip == product.chip))]
    return min(same_chip, key=version) if same_chip else None


def cuda(release: str) -> CudaRelease | None:
    """`12.8` -> its minimum driver and the oldest compute capability it builds for."""
    return next((row for row in CUDA_RELEASES if row.version == release), None)
