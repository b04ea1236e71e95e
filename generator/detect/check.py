"""`psot detect --check INFRA`: the inventory in infra.yml against what the machine reports.

GPUs are matched by PCI address; an inventory GPU without `pci` by name
(the one detect would give it), then by vendor and index, then by model.
Then:

- an inventory GPU not detected, or on the bus but not run by its driver
  (seed 003: "detected but unusable"), is treated as unavailable
  (DETECT020), and the placement is computed without it the way
  `psot place --without` does (seed 001: "GPU removed/failed → service falls
  back"): the consumers that move and the resulting table are shown;
- a detected GPU not in the inventory (DETECT021) comes as a block to paste;
- a changed VRAM size, driver, index, or a different card at the same
  address (DETECT022-DETECT025) is a finding on the line of infra.yml to edit;
  so is, where infra.yml gives them, another uuid or subsystem_id (another
  card, another board: DETECT030, DETECT031), IOMMU group (DETECT032),
  kernel driver in use (a card no longer, or newly, held by vfio-pci:
  DETECT033), and the host's NVIDIA kernel modules (DETECT034);
- an inventory GPU of a vendor that no tool that ran can see is not called
  missing (DETECT026): nvidia-smi alone says nothing about an AMD card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.detect import normalise as n
from generator.detect.merge import VENDOR_TOOLS, Detection, Gpu, incomplete, named, this_host, vram_differs
from generator.diagnostics.findings import Diagnostics, Finding
from generator.model import core as model
from generator.pipeline import Compilation, compile_infra
from generator.placement import report
from generator.placement.failover import fail_over


@dataclass(frozen=True)
class Change:
    gpu: str            # host/gpu
    field: str
    inventory: object
    detected: object

    def to_dict(self) -> dict:
        return {"gpu": self.gpu, "field": self.field, "inventory": self.inventory, "detected": self.detected}


@dataclass(frozen=True)
class HostChange:
    host: str
    field: str          # dotted: nvidia.kernel_modules
    inventory: object
    detected: object

    def to_dict(self) -> dict:
        return {"host": self.host, "field": self.field, "inventory": self.inventory, "detected": self.detected}


@dataclass
class CheckReport:
    host: str = ""
    source: str = "infra.yml"
    matched: list[tuple[model.Gpu, Gpu]] = field(default_factory=list)
    missing: list[model.Gpu] = field(default_factory=list)
    unusable: list[model.Gpu] = field(default_factory=list)      # on the bus, not run by the driver
    unchecked: list[model.Gpu] = field(default_factory=list)
    new: list[Gpu] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    host_changes: list[HostChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    without: Compilation | None = None
    simulated: list[Finding] = field(default_factory=list)      # the findings of the placement without them
    moves: list[report.Move] = field(default_factory=list)
    compared: bool = False

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.unusable or self.new or self.changes or self.host_changes)

    @property
    def gone(self) -> list[model.Gpu]:
        """The inventory GPUs that cannot serve: placement is shown without them."""
        return sorted(self.missing + self.unusable, key=lambda g: g.key)


def check(infra: Path, detection: Detection, host: str | None, this_host: str | None) -> CheckReport:
    """Compare the inventory of `host` (else this machine's, else the only host) with `detection`."""
    baseline = compile_infra(infra, until="place")
    result = CheckReport(source=baseline.diag.default_file)
    if baseline.infra is None or baseline.placement is None or not baseline.ok:
        result.findings = [f for f in baseline.diag.findings if f.severity == "error"]
        return result
    diag = Diagnostics(baseline.diag.document, baseline.diag.default_file)
    chosen = _host(baseline.infra, host, this_host, diag)
    if chosen is None:
        result.findings = diag.findings
        return result
    result.host, result.compared = chosen, True
    inventory = list(baseline.infra.hosts[chosen].gpus)
    _match(result, inventory, detection)
    declared = baseline.infra.hosts[chosen].nvidia_kernel_modules
    if declared and detection.kernel_modules and declared != detection.kernel_modules:
        result.host_changes.append(HostChange(chosen, "nvidia.kernel_modules", declared, detection.kernel_modules))
    _findings(result, detection, diag, baseline.infra)
    if result.gone:
        failover = fail_over(baseline, tuple(g.key for g in result.gone))
        result.without = failover.after
        if result.without.placement is not None:
            result.moves = failover.moves
            # What the placement would report without them: part of the simulation, not errors in infra.yml.
            seen = {(f.code, f.message) for f in baseline.diag.findings}
            result.simulated = [f for f in result.without.diag.findings if (f.code, f.message) not in seen]
    result.findings = diag.findings
    return result


def check_detected(infra: Path, detection: Detection, host: str | None,
                   findings: list[Finding]) -> tuple[CheckReport, list[Finding]]:
    """`psot detect --check`: the report against this machine (or `host`), and every finding to print: the
    detection's `findings`, the check's, and DETECT006 for each new GPU its block gives commented out."""
    result = check(infra, detection, host, this_host())
    return result, findings + result.findings + incomplete(result.new)


def _host(infra: model.Infra, host: str | None, this_host: str | None, diag: Diagnostics) -> str | None:
    hosts = list(infra.hosts)
    if host is not None:
        if host in infra.hosts:
            return host
        diag.error("DETECT027", f"--host {host}: no such host in the inventory; one of: {', '.join(hosts) or '(none)'}",
                   ("hosts",), at="key")
        return None
    if this_host in infra.hosts:
        return this_host
    if len(hosts) == 1:
        return hosts[0]
    diag.error("DETECT027", f"which host's inventory is this machine's? This machine is '{this_host}', which is not "
               f"under hosts; pass --host, one of: {', '.join(hosts) or '(none)'}", ("hosts",), at="key")
    return None


def _match(result: CheckReport, inventory: list[model.Gpu], detection: Detection) -> None:
    detected = named(detection.gpus)
    free = list(detected)
    pairs: list[tuple[model.Gpu, Gpu]] = []
    rest = []
    for gpu in inventory:
        found = next((d for d in free if gpu.pci and d.pci == gpu.pci), None)
        if found is not None:
            pairs.append((gpu, found))
            free.remove(found)
        else:
            rest.append(gpu)
    # No address in infra.yml, or the card moved to another slot: by name, then vendor and index, then model.
    for same in (lambda g, d: d.name == g.name and d.vendor == g.vendor,
                 lambda g, d: d.vendor == g.vendor and g.index is not None and d.index == g.index and not g.pci,
                 lambda g, d: d.vendor == g.vendor and _same_model(g.model, d.model)):
        for gpu in list(rest):
            found = next((d for d in free if same(gpu, d)), None)
            if found is not None:
                pairs.append((gpu, found))
                free.remove(found)
                rest.remove(gpu)
    result.matched = sorted(pairs, key=lambda p: p[0].key)
    for gpu in rest:
        (result.missing if gpu.vendor in detection.covers else result.unchecked).append(gpu)
    result.new = named(free, {g.name for g in inventory})
    for inv, det in result.matched:
        result.changes += _changes(inv, det)
        if det.unusable_by:
            result.unusable.append(inv)


def _same_model(a: str | None, b: str | None) -> bool:
    return bool(a and b) and (n.model_name(a) or "").casefold() == (n.model_name(b) or "").casefold()


def _changes(inv: model.Gpu, det: Gpu) -> list[Change]:
    out = []
    if inv.pci and det.pci and inv.pci != det.pci:
        out.append(Change(inv.key, "pci", inv.pci, det.pci))
    if inv.pci_id and det.pci_id and inv.pci_id.lower() != det.pci_id:
        out.append(Change(inv.key, "pci_id", inv.pci_id.lower(), det.pci_id))
    if det.vram_gb is not None and vram_differs(inv.vram_gb, det.vram_gb):
        out.append(Change(inv.key, "vram_gb", n.number(inv.vram_gb), det.vram_gb))
    if inv.driver and det.driver and inv.driver != det.driver:
        out.append(Change(inv.key, "driver", inv.driver, det.driver))
    vendor_index = any(t in VENDOR_TOOLS.get(det.vendor, ()) for t in det.tools)
    if inv.index is not None and det.index is not None and vendor_index and inv.index != det.index:
        out.append(Change(inv.key, "index", inv.index, det.index))
    detected = det.fields()
    for key in ("uuid", "subsystem_id", "iommu_group", "driver_in_use"):
        said, found = getattr(inv, key), detected.get(key)
        if said is not None and found is not None and str(said).lower() != str(found).lower():
            out.append(Change(inv.key, key, said, found))
    return out


def _findings(result: CheckReport, detection: Detection, diag: Diagnostics, infra: model.Infra) -> None:
    host = result.host
    for gpu in result.missing:
        diag.warning("DETECT020", f"{gpu.key}{f' ({gpu.model})' if gpu.model else ''} is in the inventory but "
                     f"{'not at ' + gpu.pci if gpu.pci else 'not detected'}: treated as unavailable, its consumers "
                     "fall back (placement below). If it is gone for good, remove it or set `status: unavailable`",
                     gpu.path, at="key")
    by_key = dict((inv.key, det) for inv, det in result.matched)
    for gpu in result.unusable:
        tools = " and ".join(by_key[gpu.key].unusable_by)
        diag.warning("DETECT020", f"{gpu.key}{f' ({gpu.model})' if gpu.model else ''} is on the PCI bus but {tools} "
                     "does not list it: its driver does not run it, so it is treated as unavailable and its consumers "
                     "fall back (placement below). Fix the driver, or set `status: unavailable`", gpu.path, at="key")
    for gpu in result.unchecked:
        tools = ", ".join(detection.tools) or "none"
        diag.warning("DETECT026", f"{gpu.key} not checked: no tool that ran ({tools}) sees {gpu.vendor} GPUs; "
                     "add lspci -nn -D output, which sees every vendor", gpu.path, at="key")
    gpus_path = ("hosts", host, "gpus") if (infra.hosts[host].spec or {}).get("gpus") is not None else ("hosts", host)
    for found in result.new:
        diag.warning("DETECT021", f"{found.label()} is on {host} but not in the inventory: add it as "
                     f"hosts.{host}.gpus.{found.name} (block below)", gpus_path, at="key")
    gpus = {g.key: g for g in infra.gpus.values()}
    for change in result.changes:
        gpu = gpus[change.gpu]
        path = gpu.path + (change.field,)
        if change.field == "pci":
            diag.warning("DETECT024", f"{change.gpu} moved from {change.inventory} to {change.detected}: set "
                         f"pci: \"{change.detected}\"", path)
        elif change.field == "pci_id":
            diag.warning("DETECT024", f"{change.gpu}: the card at {gpu.pci} is {change.detected}, not "
                         f"{change.inventory}: a different card is in that slot; update its entry (model, "
                         "pci_id, vram_gb, …) from `psot detect`", path)
        elif change.field == "vram_gb":
            diag.warning("DETECT022", f"{change.gpu}: infra.yml says {change.inventory} GB of VRAM, the card reports "
                         f"{change.detected} GB; set vram_gb: {change.detected}", path)
        elif change.field == "driver":
            diag.warning("DETECT023", f"{change.gpu}: infra.yml says driver {change.inventory}, the machine runs "
                         f"{change.detected}; set driver: \"{change.detected}\" (the driver rules judge the GPU by it)",
                         path)
        elif change.field == "index":
            diag.warning("DETECT025", f"{change.gpu}: infra.yml says index {change.inventory}, the driver numbers it "
                         f"{change.detected}; set index: {change.detected} (compose device_ids use it)", path)
        else:
            _identity_finding(change, gpu, diag, path)
    for host_change in result.host_changes:
        diag.warning("DETECT034", f"{host}: infra.yml says the NVIDIA kernel modules are {host_change.inventory}, the "
                     f"host runs the {host_change.detected} ones; set nvidia.kernel_modules: {host_change.detected}, "
                     "or install the flavour infra.yml declares", ("hosts", host, "nvidia", "kernel_modules"))


def _identity_finding(change: Change, gpu: model.Gpu, diag: Diagnostics, path: tuple) -> None:
    """Another uuid, subsystem, IOMMU group or kernel driver than infra.yml says (DETECT030-DETECT033)."""
    at = f"the card at {gpu.pci}" if gpu.pci else "the card"
    if change.field == "uuid":
        diag.warning("DETECT030", f"{change.gpu}: infra.yml says uuid {change.inventory}, {at} is "
                     f"{change.detected}: another card is in its place; set uuid: {change.detected} and check the "
                     "rest of its entry against `psot detect`", path)
    elif change.field == "subsystem_id":
        diag.warning("DETECT031", f"{change.gpu}: infra.yml says subsystem_id {change.inventory}, {at} is a "
                     f"{change.detected} board: another maker's or model's card of that chip is in its place; set "
                     f"subsystem_id: {change.detected} and check the rest of its entry", path)
    elif change.field == "iommu_group":
        diag.warning("DETECT032", f"{change.gpu}: infra.yml says IOMMU group {change.inventory}, the machine puts it "
                     f"in group {change.detected} (a firmware or kernel update, or another slot, renumbers them); set "
                     f"iommu_group: {change.detected}, and check what shares that group: a VM is given all of it",
                     path)
    elif change.inventory == "vfio-pci":
        diag.warning("DETECT033", f"{change.gpu}: infra.yml says it is bound to vfio-pci, for a VM, but "
                     f"{change.detected} holds it: the host took it back (vfio-pci did not claim it at boot); bind "
                     "it to vfio-pci again, or set driver_in_use: " + str(change.detected), path)
    else:
        diag.warning("DETECT033", f"{change.gpu}: infra.yml says driver_in_use {change.inventory}, the machine "
                     f"binds it to {change.detected}" + (": it is reserved for a VM now, the host's driver no longer "
                     "serves it" if change.detected == "vfio-pci" else "") + f"; set driver_in_use: {change.detected}",
                     path)
