"""NVIDIA driver versions per GPU architecture, as data, and what they mean for a GPU.

A GPU whose driver is older than its architecture's minimum cannot run GPU
workloads: psot treats it as `unavailable`, so placement moves its workloads
elsewhere (seed 000: "use GTX 970 for all workloads until RTX 5070 Ti
drivers available"). Older than the recommended version, it works but is
`degraded` (seed 003: Blackwell runs on 570.86.16, 575+ recommended) and
placement uses it only when nothing else fits.

Minimums are the Linux x86_64 driver of the first CUDA toolkit that supports
the architecture, from NVIDIA's CUDA Toolkit Release Notes, Table 3 "CUDA
Toolkit and Corresponding Driver Versions"
(https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html; every
row quoted below was checked against that table as the CUDA 13.2 notes print it).
A recommended version is given only where a source says a newer branch is
needed to run well; elsewhere it equals the minimum (no `degraded` range).
Versions compare numerically field by field, so "575" means any 575.x.
"""

from __future__ import annotations

from dataclasses import dataclass

# architecture: (minimum, recommended)
NVIDIA_DRIVERS: dict[str, tuple[str, str]] = {
    # CUDA 7.0 (7.0.28): >= 346.46, the table's first row, and it covers Maxwell (sm_50/sm_52; the
    # CUDA 6.x toolkits that introduced Maxwell predate the table).
    "maxwell": ("346.46", "346.46"),
    # CUDA 8.0 (8.0.44): >= 367.48, the first toolkit with Pascal (sm_60/sm_61).
    "pascal": ("367.48", "367.48"),
    # CUDA 9.0 (9.0.76): >= 384.81, the first toolkit with Volta (sm_70).
    "volta": ("384.81", "384.81"),
    # CUDA 10.0 (10.0.130): >= 410.48, the first toolkit with Turing (sm_75).
    "turing": ("410.48", "410.48"),
    # CUDA 11.0 (11.0.1 RC): >= 450.36.06, the first toolkit with Ampere (GA100, sm_80);
    # GA10x cards (sm_86, RTX 30 / RTX A-series) arrived with CUDA 11.1 GA: >= 455.23.
    "ampere": ("450.36.06", "455.23"),
    # CUDA 11.8 GA: >= 520.61.05, the first toolkit with Ada Lovelace (sm_89).
    "ada": ("520.61.05", "520.61.05"),
    # CUDA 11.8 GA: >= 520.61.05, the first toolkit with Hopper (sm_90).
    "hopper": ("520.61.05", "520.61.05"),
    # CUDA 12.8 GA: >= 570.26, the first toolkit with Blackwell (sm_100, sm_120). The table's number,
    # not the driver seed 003 happens to run (570.86.16): a GeForce RTX 50 card still needs a 570
    # driver that lists it, which the table does not say. Recommended: seeds 000 and 003, "NVIDIA
    # 575+ drivers" for Blackwell (570.86.16 "functional (suboptimal but workable)").
    "blackwell": ("570.26", "575"),
}

# Compute capability (major, minor) -> architecture, for GPUs that give only `compute_capability`.
_BY_COMPUTE_CAPABILITY = [
    ((5, 0), "maxwell"), ((6, 0), "pascal"), ((7, 0), "volta"), ((7, 5), "turing"),
    ((8, 0), "ampere"), ((8, 9), "ada"), ((9, 0), "hopper"), ((10, 0), "blackwell"),
]


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def architecture_of(vendor: str, architecture: str | None, compute_capability: str | None) -> str | None:
    """The NVIDIA architecture name from `architecture`, else from the compute capability."""
    if vendor != "nvidia":
        return None
    if architecture:
        return architecture.lower()
    if not compute_capability:
        return None
    cc = version(compute_capability)
    found = None
    for start, name in _BY_COMPUTE_CAPABILITY:
        if cc >= start:
            found = name
    return found


@dataclass(frozen=True)
class Assessment:
    status: str            # ok, degraded, unavailable
    architecture: str
    minimum: str
    recommended: str


def assess(vendor: str, architecture: str | None, compute_capability: str | None,
           driver: str | None) -> Assessment | None:
    """What the installed driver means for the GPU; None when unknown (no driver or no table entry)."""
    arch = architecture_of(vendor, architecture, compute_capability)
    if not driver or arch not in NVIDIA_DRIVERS:
        return None
    minimum, recommended = NVIDIA_DRIVERS[arch]
    installed = version(driver)
    if installed < version(minimum):
        status = "unavailable"
    elif installed < version(recommended):
        status = "degraded"
    else:
        status = "ok"
    return Assessment(status, arch, minimum, recommended)


_RANK = {"ok": 0, "degraded": 1, "unavailable": 2}


def worst(*statuses: str) -> str:
    return max(statuses, key=_RANK.__getitem__)
