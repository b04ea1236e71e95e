"""What a GPU's installed driver means for it: ok, degraded or unavailable.

Below its architecture's minimum driver (generator/hardware/nvidia.py) a GPU
cannot run GPU work: `unavailable`. Below the recommended one it works but
is `degraded`. A product the tables list by PCI ID (`pci_id`) can need more:
below the first driver that knows its chip it is `unavailable`, and below
the first that lists the product itself at least `degraded` (the chip runs,
NVIDIA does not support it yet: seed 003's RTX 5070 Ti on 570.86.16). A
GPU without `driver`, or whose architecture has no minimum in the tables
(AMD, Intel, NVIDIA before Maxwell, names the tables do not know), is not
judged. A driver above the architecture's last branch
(`beyond_last_branch`: Maxwell on 590) no longer drives it, and a kernel-module
flavour the architecture cannot run on (`flavours`: Blackwell on the
proprietary modules) neither. model/core.py applies the status to the
consumers that use the host's driver; the DRV rules explain it.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.hardware import tables
from generator.hardware.rows import Architecture


@dataclass(frozen=True)
class Assessment:
    status: str            # ok, degraded, unavailable
    architecture: Architecture
    minimum: str
    recommended: str
    minimum_reason: str      # "the minimum for Blackwell", or the chip's first driver
    recommended_phrase: str  # "the recommended 575", or "575.57.08, the first driver that lists the …"
    chip: str | None = None  # the chip whose first driver raised the minimum (GB206)


def architecture_of(vendor: str, architecture: str | None, compute_capability: str | None) -> Architecture | None:
    """By the `architecture` infra.yml gives, else by the compute capability."""
    if architecture:
        return tables.architecture(vendor, architecture)
    if compute_capability:
        return tables.by_compute_capability(vendor, compute_capability)
    return None


def assess(vendor: str, architecture: str | None, compute_capability: str | None,
           driver: str | None, pci_id: str | None = None) -> Assessment | None:
    """What the installed driver means for the GPU; None when it is not judged."""
    row = architecture_of(vendor, architecture, compute_capability)
    if not driver or row is None or row.minimum_driver is None or row.recommended_driver is None:
        return None
    minimum, minimum_reason = row.minimum_driver, f"the minimum for {row.display}"
    recommended, chip = row.recommended_driver, None
    recommended_phrase = f"the recommended {recommended}"
    product = tables.sku(vendor, pci_id) if pci_id else None
    if product is not None and product.architecture == row.name and product.minimum_driver is not None:
        chip_first = tables.chip_minimum(product)
        if chip_first is not None and tables.version(chip_first) > tables.version(minimum):
            minimum, chip = chip_first, product.chip
            minimum_reason = f"the first driver that knows the {product.chip} chip of the {product.name}"
        if tables.version(product.minimum_driver) > tables.version(recommended):
            recommended = product.minimum_driver
            recommended_phrase = f"{recommended}, the first driver that lists the {product.name},"
    installed = tables.version(driver)
    if installed < tables.version(minimum):
        status = "unavailable"
    elif installed < tables.version(recommended):
        status = "degraded"
    else:
        status = "ok"
    return Assessment(status, row, minimum, recommended, minimum_reason, recommended_phrase, chip)


def beyond_last_branch(row: Architecture, driver: str | None) -> bool:
    """Whether `driver` is of a branch newer than the last one that supports the architecture
    (590.44.01 for Maxwell, whose last branch is R580); False when either is not known."""
    if not driver or row.last_driver_branch is None:
        return False
    return tables.version(driver)[0] > row.last_driver_branch


def flavours(row: Architecture) -> tuple[str, ...]:
    """The NVIDIA kernel-module flavours that can drive the architecture ("open", "proprietary");
    empty for another vendor's."""
    return row.kernel_modules if row.vendor == "nvidia" else ()


_RANK = {"ok": 0, "degraded": 1, "unavailable": 2}


def worst(*statuses: str) -> str:
    return max(statuses, key=_RANK.__getitem__)
