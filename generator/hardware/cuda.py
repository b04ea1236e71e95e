"""What a CUDA release asks of a GPU: a host driver new enough, and a compute capability it still builds for.

A consumer's `gpu.cuda` is the CUDA version its image is built for. The
release's row (nvidia.py, CUDA_RELEASES) gives the driver of its first build
and the oldest compute capability it supports. `failure` says which of the
two a GPU fails, the first that does: compute capability (no driver upgrade
helps), then the driver (only where the host's driver serves the GPU; a GPU
passed through to a VM runs the guest's). What is not known (no `driver`, no
compute capability and no architecture) is not judged. The eligibility of
placement and the DRV007/DRV008 rules ask the same function.
"""

from __future__ import annotations

from generator.hardware import driver_status, tables
from generator.hardware.rows import CudaRelease

DRIVER = "driver"
COMPUTE_CAPABILITY = "compute capability"


def compute_capability(vendor: str, architecture: str | None, compute_capability: str | None) -> str | None:
    """The GPU's compute capability as given, else the highest of its architecture: `maxwell` -> `5.3`."""
    if compute_capability:
        return compute_capability
    row = driver_status.architecture_of(vendor, architecture, None)
    if row is None or row.compute_capability is None:
        return None
    major, minor = row.compute_capability[1]
    return f"{major}.{minor}"


def failure(release: CudaRelease, vendor: str, architecture: str | None, capability: str | None,
            driver: str | None, host_driver: bool) -> str | None:
    """COMPUTE_CAPABILITY, DRIVER, or None when the GPU runs the release (or what it needs is not known).

    `host_driver`: the consumer runs on the host's driver (a container), not a VM's own.
    """
    found = compute_capability(vendor, architecture, capability)
    if found is not None and tables.version(found) < release.lowest_compute_capability:
        return COMPUTE_CAPABILITY
    if host_driver and driver and tables.version(driver) < tables.version(release.minimum_driver):
        return DRIVER
    return None


def newest_for_driver(driver: str) -> CudaRelease | None:
    """The newest release whose first build runs on `driver`: 560.35.03 -> 12.6; None below every release."""
    runs = [row for row in tables.CUDA_RELEASES if tables.version(row.minimum_driver) <= tables.version(driver)]
    return max(runs, key=lambda row: tables.version(row.version)) if runs else None


def last_for_compute_capability(capability: str) -> CudaRelease | None:
    """The newest release that still builds for `capability`: 5.2 -> 12.9; None when none does."""
    runs = [row for row in tables.CUDA_RELEASES if row.lowest_compute_capability <= tables.version(capability)]
    return max(runs, key=lambda row: tables.version(row.version)) if runs else None
