"""What the parsers return: GPUs as one tool saw them, and findings about its output.

A `Seen` is one tool's view of one GPU, fields normalised (see normalise.py)
but not merged: `merge.merge` joins the views of the same PCI address. A
`Parsed` is one tool output read: its GPUs, findings about the text (with
the line they are about), and which vendors' GPUs the tool can see at all,
so that `--check` does not call a GPU missing that no tool that ran could
have seen. Some outputs describe no GPU but facts that merge applies to
the GPUs others list: the IOMMU group of each PCI address (a listing of
/sys/kernel/iommu_groups), the GTT each amd-smi index can address
(`amd-smi metric --mem-usage`), and the host's NVIDIA kernel modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from generator.diagnostics import codes
from generator.diagnostics.findings import ERROR, WARNING, Finding
from generator.model.core import PciFunction

ALL_VENDORS = frozenset({"nvidia", "amd", "intel"})
MAX_PROBLEMS = 20   # DETECT003 findings listed per output; a garbage file must not flood the terminal


@dataclass(frozen=True)
class Seen:
    """One GPU as one tool reports it; None where the tool does not say."""
    tool: str                        # "nvidia-smi", "rocm-smi", "amd-smi", "lspci"
    vendor: str | None = None        # nvidia, amd, intel
    pci: str | None = None           # 0000:3b:00.0
    pci_id: str | None = None        # 10de:2c05
    model: str | None = None         # GeForce RTX 5070 Ti
    vram_gb: float | None = None
    index: int | None = None
    architecture: str | None = None
    compute_capability: str | None = None
    driver: str | None = None
    tdp_watts: int | None = None
    uuid: str | None = None
    chip: str | None = None          # lspci's code name: GB203, Navi 31
    kernel_driver: str | None = None  # lspci -k: nvidia, amdgpu, vfio-pci
    subsystem_id: str | None = None  # 1043:8a15, the board's maker and model
    iommu_group: int | None = None   # lspci -v / -vv
    functions: tuple[PciFunction, ...] | None = None   # lspci: the card's other functions (HDMI audio)
    memory: str | None = None        # "unified" for an APU, whose VRAM is a carve-out of system memory
    gtt_gb: float | None = None      # the system memory the GPU can address (GTT)
    source: str = ""                 # file name, or the tool name when run here
    line: int = 1                    # where in that output the GPU is described

    def with_(self, **changes) -> Seen:
        return replace(self, **changes)


@dataclass(frozen=True)
class KernelModules:
    """Which NVIDIA kernel modules the host has: `open` or `proprietary`, as loaded or as installed."""
    flavour: str
    loaded: bool                     # /proc/driver/nvidia/version (the running module), not modinfo (the file)
    source: str
    line: int


@dataclass
class Parsed:
    """One tool output read: the GPUs in it, findings about it, the vendors its tool can see."""
    format: str                      # a key of formats.PARSERS, or "unknown"
    source: str
    gpus: list[Seen] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    covers: frozenset[str] = frozenset()
    iommu_groups: dict[str, int] = field(default_factory=dict)   # PCI address -> IOMMU group
    gtt_by_index: dict[int, float] = field(default_factory=dict)   # amd-smi index -> GTT in GB
    kernel_modules: KernelModules | None = None

    problems: int = 0

    def problem(self, message: str, line: int = 1, column: int = 1) -> None:
        """A record that cannot be read (DETECT003): said once per line, at most MAX_PROBLEMS times per output."""
        self.problems += 1
        if self.problems <= MAX_PROBLEMS:
            self.warn("DETECT003", message, line, column)
        elif self.problems == MAX_PROBLEMS + 1:
            self.warn("DETECT003", f"more unreadable records from line {line} on are not listed", line, column)

    def warn(self, code: str, message: str, line: int = 1, column: int = 1) -> None:
        self.findings.append(finding(code, WARNING, message, self.source, line, column))

    def error(self, code: str, message: str, line: int = 1, column: int = 1) -> None:
        self.findings.append(finding(code, ERROR, message, self.source, line, column))


def finding(code: str, severity: str, message: str, file: str, line: int = 1, column: int = 1,
            path: str = "") -> Finding:
    """A finding about a tool's output; its code must be in the table of codes, with that severity."""
    codes.check(code, severity)
    return Finding(code, severity, message, file, line, column, path)
