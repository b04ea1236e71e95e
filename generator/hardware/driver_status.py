"""What a GPU's installed driver means for it: ok, degraded or unavailable.

Below its architecture's minimum driver (generator/hardware/nvidia.py) a GPU
cannot run GPU work: `unavailable`. Below the recommended one it works but
is `degraded`. A GPU without `driver`, or whose architecture has no minimum
in the tables (AMD, Intel, NVIDIA before Maxwell, names the tables do not
know), is not judged. A driver above the architecture's last branch
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


def architecture_of(vendor: str, architecture: str | None, compute_capability: str | None) -> Architecture | None:
    """By the `architecture` infra.yml gives, else by the compute capability."""
    if architecture:
        return tables.architecture(vendor, architecture)
    if compute_capability:
        return tables.by_compute_capability(vendor, compute_capability)
    return None


def assess(vendor: str, architecture: str | None, compute_capability: str | None,
           driver: str | None) -> Assessment | None:
    """What the installed driver means for the GPU; None when it is not judged."""
    row = architecture_of(vendor, architecture, compute_capability)
    if not driver or row is None or row.minimum_driver is None or row.recommended_driver is None:
        return None
    installed = tables.version(driver)
    if installed < tables.version(row.minimum_driver):
        status = "unavailable"
    elif installed < tables.version(row.recommended_driver):
        status = "degraded"
    else:
        status = "ok"
    return Assessment(status, row, row.minimum_driver, row.recommended_driver)


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
