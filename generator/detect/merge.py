"""One record per GPU from every tool's view of it, joined by PCI address.

Each tool knows part of a GPU: lspci its address and vendor:device ID even
with no driver loaded, nvidia-smi / rocm-smi / amd-smi its VRAM, index,
driver and compute capability. `merge` groups the views by PCI address and
takes each field from the first tool that knows it, in the order of
PRECEDENCE (the vendor's own tool first; lspci first for `pci_id`, which it
reads from the device itself). A view without an address (rocm-smi run
without --showbus) joins the GPU of the same vendor with the same device
ID, when only one has it, or with the same index from the other AMD tool.

The outputs that list no GPU add their facts to the GPUs the others list:
the IOMMU group of each address (lspci's own, else a listing of
/sys/kernel/iommu_groups; two listings that disagree give the lower
group), the GTT of each amd-smi index, and the host's NVIDIA kernel
modules (the loaded ones, /proc/driver/nvidia/version, before the
installed ones, modinfo; DETECT028 when they differ). An APU's memory is
unified: the VRAM its tools report is the BIOS carve-out, so its
`vram_gb` is the GTT the GPU can address (DETECT029 when no output gives
it).

The result is sorted by PCI address, so the output never depends on which
tool answered first. GPU names are given by `named`, unique per host.

`gather` is what `psot detect` and `psot init` start from: the named GPUs of the
saved outputs, else of this machine's tools, with every finding about them.
"""

from __future__ import annotations

import socket
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from pathlib import Path

from generator.detect import normalise as n
from generator.detect import tools
from generator.detect.records import KernelModules, Parsed, Seen, finding
from generator.diagnostics.findings import WARNING, Finding
from generator.model.core import PciFunction

PRECEDENCE = {"nvidia-smi": 0, "amd-smi": 1, "rocm-smi": 2, "lspci": 3}
_PCI_ID_PRECEDENCE = {"lspci": 0, "nvidia-smi": 1, "amd-smi": 2, "rocm-smi": 3}
VENDOR_TOOLS = {"nvidia": ("nvidia-smi",), "amd": ("rocm-smi", "amd-smi"), "intel": ()}

# The fields of hosts.<host>.gpus.<gpu> that detect fills, in SPEC §2's order, then the card's identity.
BLOCK_FIELDS = ("vendor", "model", "vram_gb", "index", "pci", "pci_id", "architecture", "compute_capability",
                "driver", "tdp_watts", "memory", "uuid", "subsystem_id", "driver_in_use", "iommu_group", "functions")


@dataclass(frozen=True)
class Gpu:
    """A detected GPU: the merged views of one PCI address."""
    vendor: str
    pci: str | None
    pci_id: str | None
    model: str | None
    vram_gb: float | None
    index: int | None
    architecture: str | None
    compute_capability: str | None
    driver: str | None
    tdp_watts: int | None
    uuid: str | None
    chip: str | None
    kernel_driver: str | None
    tools: tuple[str, ...]
    where: tuple[str, int]          # (source, line) of the first view, for findings
    name: str = ""
    unusable_by: tuple[str, ...] = ()   # vendor tools that ran and do not list it (seed 003), see _unusable
    subsystem_id: str | None = None
    iommu_group: int | None = None
    functions: tuple[PciFunction, ...] | None = None
    memory: str | None = None       # "unified": an APU, whose vram_gb is the GTT (gtt_gb) when known
    gtt_gb: float | None = None

    @property
    def complete(self) -> bool:
        """Enough to be pasted into infra.yml: the schema requires `vram_gb`."""
        return self.vram_gb is not None

    def label(self) -> str:
        """`0000:01:00.0 (GeForce RTX 5070 Ti, 10de:2c05)` for messages."""
        what = ", ".join(x for x in (self.model, self.pci_id) if x)
        at = self.pci or (f"{self.vendor} GPU {self.index}" if self.index is not None else f"{self.vendor} GPU")
        return f"{at} ({what})" if what else at

    @property
    def bound_to_vfio(self) -> bool:
        """Reserved for a VM: vfio-pci holds it, so the host's own driver does not serve it."""
        return self.kernel_driver == "vfio-pci"

    def fields(self) -> dict:
        """The infra.yml fields, in SPEC order, without the unknown ones."""
        named = {"driver_in_use": self.kernel_driver,
                 "uuid": n.nvidia_uuid(self.uuid),                     # rocm-smi's Unique ID is no infra.yml uuid
                 "functions": [{k: v for k, v in (("pci", f.pci), ("pci_id", f.pci_id), ("class", f.class_))
                                if v is not None} for f in self.functions] if self.functions else None}
        values = {k: named[k] if k in named else getattr(self, k) for k in BLOCK_FIELDS}
        return {k: v for k, v in values.items() if v is not None}

    def to_dict(self) -> dict:
        return {"name": self.name, **self.fields(), "uuid": self.uuid, "chip": self.chip,
                "kernel_driver": self.kernel_driver, "tools": list(self.tools), "complete": self.complete,
                "usable": not self.unusable_by}


@dataclass
class Detection:
    """Everything detect knows about a host: its GPUs, findings, and which vendors' GPUs the tools can see."""
    gpus: list[Gpu] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    covers: frozenset[str] = frozenset()
    sources: list[dict] = field(default_factory=list)   # {"source", "format", "gpus"} per output read
    kernel_modules: str | None = None                   # the host's NVIDIA kernel modules: open, proprietary

    def host_fields(self) -> dict:
        """The fields of hosts.<host> that detect fills, besides its GPUs."""
        return {"nvidia": {"kernel_modules": self.kernel_modules}} if self.kernel_modules else {}

    @property
    def tools(self) -> list[str]:
        return sorted({t for g in self.gpus for t in g.tools} | {s["tool"] for s in self.sources if s.get("tool")},
                      key=lambda t: PRECEDENCE.get(t, 9))


def sort_key(gpu: Gpu | Seen) -> tuple:
    return (gpu.pci is None, gpu.pci or "", gpu.vendor or "", gpu.index if gpu.index is not None else 1 << 30,
            gpu.model or "")


def merge(outputs: list[Parsed]) -> Detection:
    detection = Detection()
    for parsed in outputs:
        detection.findings.extend(parsed.findings)
        if not failed(parsed):
            detection.covers |= parsed.covers
        detection.sources.append({"source": parsed.source, "format": parsed.format,
                                  "tool": parsed.gpus[0].tool if parsed.gpus else _tool_of(parsed.format),
                                  "gpus": len(parsed.gpus)})
    views = [g for parsed in outputs for g in parsed.gpus]
    groups: dict[str, list[Seen]] = {}
    for view in views:
        if view.pci is not None:
            groups.setdefault(view.pci, []).append(view)
    loose: list[list[Seen]] = []
    for view in views:
        if view.pci is None:
            home = _home(view, groups)
            if home is not None:
                groups[home].append(view)
            else:
                loose.append([view])
                detection.findings.append(finding(
                    "DETECT008", WARNING, f"{view.tool} reports {view.model or 'a GPU'} (index {view.index}) without a "
                    "PCI address and no other tool's GPU matches it: it is listed without `pci`; run "
                    "rocm-smi with --showbus (or add lspci -nn -D output) to place it", view.source, view.line))
    facts = _Facts.of(outputs)
    for members in list(groups.values()) + loose:
        gpu, disagreements = _join(members, facts)
        detection.gpus.append(gpu)
        detection.findings.extend(disagreements)
    detection.gpus.sort(key=sort_key)
    detection.findings.extend(_unusable(detection, outputs))
    detection.findings.extend(_one_index_each(detection))
    detection.findings.extend(_carve_outs(detection))
    detection.kernel_modules, disagreement = _kernel_modules(outputs)
    detection.findings.extend(disagreement)
    return detection


@dataclass(frozen=True)
class _Facts:
    """What the outputs that list no GPU say about the GPUs of the others."""
    iommu_groups: dict[str, int]
    gtt_by_index: dict[int, float]

    @staticmethod
    def of(outputs: list[Parsed]) -> _Facts:
        groups: dict[str, int] = {}
        gtt: dict[int, float] = {}
        for parsed in outputs:
            for pci, group in parsed.iommu_groups.items():
                groups[pci] = min(group, groups.get(pci, group))
            for index, size in parsed.gtt_by_index.items():
                gtt[index] = max(size, gtt.get(index, size))
        return _Facts(groups, gtt)


def _kernel_modules(outputs: list[Parsed]) -> tuple[str | None, list[Finding]]:
    """The host's NVIDIA kernel modules: the loaded ones before the installed ones; DETECT028 when they differ."""
    said: list[KernelModules] = sorted((p.kernel_modules for p in outputs if p.kernel_modules is not None),
                                       key=lambda k: (not k.loaded, k.source, k.line))
    if not said:
        return None, []
    chosen = said[0]
    other = next((k for k in said if k.flavour != chosen.flavour), None)
    if other is None:
        return chosen.flavour, []
    state = {True: "loaded", False: "installed"}
    message = (f"the NVIDIA kernel modules {state[other.loaded]} are {other.flavour} ({other.source}), those "
               f"{state[chosen.loaded]} {chosen.flavour} ({chosen.source}); the block says kernel_modules: "
               f"{chosen.flavour}")
    if chosen.loaded and not other.loaded:
        message += ", which runs now: the next boot loads the installed ones; reboot, or install the flavour the " \
                   "host is to run"
    else:
        message += ": these outputs come from different machines or boots"
    return chosen.flavour, [finding("DETECT028", WARNING, message, other.source, other.line)]


def _carve_outs(detection: Detection) -> list[Finding]:
    """APUs whose GTT no output gave: their vram_gb is the BIOS carve-out, far less than they can address."""
    return [finding(
        "DETECT029", WARNING, f"{gpu.label()} is an APU: its {n.number(gpu.vram_gb)} GB of VRAM is the share of "
        "system memory the BIOS reserves for it, and it can address more (the GTT), which no output gave; the "
        "block says the reserved share. Add the output of rocm-smi --showmeminfo vram gtt --json or amd-smi "
        "metric --mem-usage --json", *gpu.where)
        for gpu in detection.gpus if gpu.memory == "unified" and gpu.gtt_gb is None and gpu.vram_gb is not None]


def _one_index_each(detection: Detection) -> list[Finding]:
    """A driver numbers each of its cards once: two GPUs of one vendor with one index come from outputs of
    different machines (or a renumbering between two runs). The block keeps the index of the first, in PCI
    order, and leaves it out for the others, so that it still pastes and compiles (INV002 would refuse it)."""
    found: list[Finding] = []
    first: dict[tuple[str, int], Gpu] = {}
    for i, gpu in enumerate(detection.gpus):
        if gpu.index is None:
            continue
        other = first.setdefault((gpu.vendor, gpu.index), gpu)
        if other is gpu:
            continue
        detection.gpus[i] = replace(gpu, index=None)
        found.append(finding(
            "DETECT011", WARNING, f"{gpu.label()} has {gpu.vendor} index {gpu.index}, as {other.label()} has: one "
            "driver numbers each card once, so these outputs come from different machines or runs; the block leaves "
            "out its index: run the tools on the GPU host, together, and pass their outputs to one --from",
            *gpu.where))
    return found


def _tool_of(format: str) -> str | None:
    return {"nvidia-smi-csv": "nvidia-smi", "nvidia-smi-xml": "nvidia-smi", "rocm-smi-json": "rocm-smi",
            "amd-smi-json": "amd-smi", "lspci": "lspci"}.get(format)


def _home(view: Seen, groups: dict[str, list[Seen]]) -> str | None:
    """The address of the one GPU an address-less view belongs to, if exactly one fits."""
    same_vendor = {pci: members for pci, members in groups.items()
                   if any(m.vendor == view.vendor for m in members) and not any(m.tool == view.tool for m in members)}
    if view.pci_id:
        by_id = [pci for pci, members in same_vendor.items() if any(m.pci_id == view.pci_id for m in members)]
        if len(by_id) == 1:
            return by_id[0]
    if view.index is not None:
        by_index = [pci for pci, members in same_vendor.items()
                    if any(m.index == view.index and m.tool in VENDOR_TOOLS.get(view.vendor or "", ())
                           for m in members)]
        if len(by_index) == 1:
            return by_index[0]
    return None


def _first(members: list[Seen], attribute: str, order: dict[str, int] = PRECEDENCE):
    for member in sorted(members, key=lambda m: order.get(m.tool, 9)):
        value = getattr(member, attribute)
        if value is not None:
            return value
    return None


def _join(members: list[Seen], facts: _Facts) -> tuple[Gpu, list[Finding]]:
    first = sorted(members, key=lambda m: PRECEDENCE.get(m.tool, 9))[0]
    vendor = _first(members, "vendor") or "nvidia"
    pci = _first(members, "pci")
    pci_id = _first(members, "pci_id", _PCI_ID_PRECEDENCE)
    cc = _first(members, "compute_capability")
    chip = _first(members, "chip")
    arch = _first(members, "architecture") or n.architecture(vendor, compute_cap=cc, chip=chip, pci_id_=pci_id)
    amd_smi_index = next((m.index for m in members if m.tool == "amd-smi" and m.index is not None), None)
    gtt = _first(members, "gtt_gb")
    if gtt is None and amd_smi_index is not None:
        gtt = facts.gtt_by_index.get(amd_smi_index)
    memory = "unified" if any(m.memory == "unified" for m in members) else None
    group = _first(members, "iommu_group")
    gpu = Gpu(vendor=vendor, pci=pci, pci_id=pci_id, model=_first(members, "model"),
              vram_gb=gtt if memory == "unified" and gtt is not None else _first(members, "vram_gb"),
              index=_first(members, "index"), architecture=arch,
              compute_capability=cc, driver=_first(members, "driver"), tdp_watts=_first(members, "tdp_watts"),
              uuid=_first(members, "uuid"), chip=chip, kernel_driver=_first(members, "kernel_driver"),
              tools=tuple(sorted({m.tool for m in members}, key=lambda t: PRECEDENCE.get(t, 9))),
              where=(first.source, first.line), subsystem_id=_first(members, "subsystem_id", _PCI_ID_PRECEDENCE),
              iommu_group=group if group is not None else facts.iommu_groups.get(pci or ""),
              functions=_first(members, "functions"), memory=memory, gtt_gb=gtt)
    return gpu, _disagreements(gpu, members)


def vram_differs(a: float, b: float) -> bool:
    """Two VRAM sizes differ when apart by more than 0.5 GB and 3% (rounding and reserved memory are not a change)."""
    return abs(a - b) > max(0.5, 0.03 * max(a, b))


def _disagreements(gpu: Gpu, members: list[Seen]) -> list[Finding]:
    out = []
    sizes = {(m.tool, m.vram_gb) for m in members if m.vram_gb is not None}
    if gpu.vram_gb is not None and any(vram_differs(a[1], b[1]) for a in sizes for b in sizes):
        said = ", ".join(f"{tool} {n.number(size)} GB" for tool, size in sorted(sizes))
        out.append(finding("DETECT007", WARNING, f"tools disagree on the VRAM of {gpu.label()}: {said}; "
                           f"{n.number(gpu.vram_gb)} GB is used (from {gpu.tools[0]})", *gpu.where))
    vendors = {m.vendor for m in members if m.vendor}
    if len(vendors) > 1:
        out.append(finding("DETECT007", WARNING, f"tools disagree on the vendor of {gpu.label()}: "
                           f"{', '.join(sorted(vendors))}; {gpu.vendor} is used", *gpu.where))
    return out


def _unusable(detection: Detection, outputs: list[Parsed]) -> list[Finding]:
    """Seed 003's 'detected but unusable': a card on the bus that its vendor's tool, which ran, does not list.

    Such GPUs are marked `unusable_by` (the tools that miss it); a card bound
    to vfio-pci is passed through to a VM, which is why the host's driver
    does not see it, and is left alone.
    """
    ran = {_tool_of(p.format) for p in outputs if not failed(p)}
    out = []
    for position, gpu in enumerate(detection.gpus):
        tools = tuple(t for t in VENDOR_TOOLS.get(gpu.vendor, ()) if t in ran)
        if gpu.tools != ("lspci",) or not tools or gpu.kernel_driver == "vfio-pci":
            continue
        detection.gpus[position] = replace(gpu, unusable_by=tools)
        driver = f"kernel driver in use: {gpu.kernel_driver}" if gpu.kernel_driver else "no kernel driver bound"
        out.append(finding("DETECT010", WARNING, f"{gpu.label()} is on the PCI bus but {' and '.join(tools)} does not "
                           f"list it ({driver}): the driver does not run this card (not loaded, too old for it, or "
                           "the card failed), so no workload can use it. Mark it `status: unavailable` until it "
                           "works; bind it to vfio-pci if it is meant for a VM", *gpu.where))
    return out


def failed(parsed: Parsed) -> bool:
    """Output that could not be read at all: its tool saw nothing psot can rely on."""
    return parsed.format == "unknown" or (not parsed.gpus and any(f.severity == "error" for f in parsed.findings))


def named(gpus: list[Gpu], taken: AbstractSet[str] = frozenset()) -> list[Gpu]:
    """The GPUs with names from their models, unique on the host and avoiding `taken`, in PCI address order."""
    ordered = sorted(gpus, key=sort_key)
    names = n.unique_names([n.gpu_name(g.model, g.vendor, g.pci_id) for g in ordered], set(taken))
    return [replace(g, name=name) for g, name in zip(ordered, names)]


# --- what `psot detect` and `psot init` build from the outputs -------------------------------------

def this_host() -> str | None:
    """This machine's short hostname as a psot name (`ws.lan` -> `ws`), or None."""
    return n.host_name(socket.gethostname())


def host_or_this(host: str | None) -> str:
    """The host the GPUs belong to: `host` (--host), else this machine's short hostname, else `localhost`."""
    return host or this_host() or "localhost"


def bad_host_name(value: str) -> str | None:
    """Why `value` cannot be a host's name in infra.yml (it becomes file names), or None when it can."""
    if len(value) > n.NAME_MAX or not n.NAME_PATTERN.fullmatch(value):
        return (f"{value!r} is not a host name infra.yml accepts (lower-case letters, digits and inner hyphens, "
                "at most 63 characters)")
    return None


def gather(sources: list[Path]) -> tuple[Detection, list[Finding]]:
    """The named GPUs of the saved outputs `sources`, else of this machine's tools, and every finding about them
    (DETECT004 when no tool could run, DETECT009 when the tools found no GPU)."""
    if sources:
        outputs, findings = tools.read_files(sources), list[Finding]()
    else:
        outputs, findings = tools.run_all()
    detection = merge(outputs)
    detection.gpus = named(detection.gpus)
    return detection, findings + detection.findings + _nothing_found(detection, outputs)


def _nothing_found(detection: Detection, outputs: list[Parsed]) -> list[Finding]:
    readable = [p for p in outputs if not failed(p)]
    if not readable or detection.gpus:
        return []
    return [finding("DETECT009", WARNING, "no GPU found: no NVIDIA, AMD or Intel display or accelerator device in "
                    f"{', '.join(p.source for p in readable)}", readable[0].source)]


def incomplete(gpus: list[Gpu]) -> list[Finding]:
    """The GPUs of a printed block that it can only give commented out."""
    return [finding("DETECT006", WARNING, f"{gpu.label()}: no tool reported its VRAM (only {', '.join(gpu.tools)} "
                    "saw it), so it is left commented out in the block: fill in vram_gb (and index, for compose) "
                    "and uncomment it", gpu.where[0], gpu.where[1]) for gpu in gpus if not gpu.complete]


def could_not_run(findings: list[Finding]) -> bool:
    """No tool could run (DETECT004): there is nothing to build on."""
    return any(f.code == "DETECT004" for f in findings)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    """Each finding once, in the order findings are printed."""
    return sorted(set(findings), key=Finding.sort_key)
