"""`psot place --compare-modes`: every mode placed, side by side (consumer -> GPU per mode), as `--compare`
puts the strategies side by side.

Each column is the mode compiled alone (its own findings, without the prefixed ones of the other modes):
what `psot place --mode M` shows, and what generated/modes/<mode>/ holds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from generator.diagnostics.findings import Diagnostics, Finding
from generator.load import loader
from generator.modes import consumer_paths, mode_names
from generator.pipeline import Compilation, run
from generator.placement.core import fmt_gb
from generator.placement.report import table


@dataclass
class ModeComparison:
    """Every mode's compilation, placed, in the order infra.yml writes the modes; `base` when the input
    stopped before any mode could be compiled (or has no modes: MODE001), its findings say why."""
    results: dict[str, Compilation]
    base: Compilation | None = None

    @property
    def failed(self) -> Compilation | None:
        """The compilation that could not place (the input's, or a mode's), or None."""
        if self.base is not None:
            return self.base
        return next((r for r in self.results.values() if r.placement is None), None)

    def findings(self) -> list[Finding]:
        """What to print: the findings every mode has once, each other one prefixed with its mode's name
        (as `psot validate` prints a mode's own findings)."""
        found = [set(r.diag.findings) for r in self.results.values()]
        common = set.intersection(*found) if found else set()
        out = set(common)
        for name, result in self.results.items():
            out |= {replace(f, message=f"mode '{name}': {f.message}") for f in result.diag.findings
                    if f not in common}
        return sorted(out, key=Finding.sort_key)

    def counts(self) -> dict[str, tuple[int, int]]:
        """Mode -> (errors, warnings) of its compilation."""
        return {m: (r.diag.error_count, len(r.diag.findings) - r.diag.error_count) for m, r in self.results.items()}


def _compiled(path: Path, mode: str | None, output_dir: Path | None) -> Compilation:
    # Each mode as generated/modes/<mode>/ holds it: its previous placement is that directory's.
    outcome = run(path, "place", output_dir=output_dir, mode=mode, mode_tree=True)
    result = Compilation(outcome.source, outcome.output_dir, outcome.diag)
    result.take(outcome)
    return result


def compare(infra: Path, output_dir: Path | None) -> ModeComparison:
    """Place `infra` in each of its modes."""
    base = _compiled(infra, None, output_dir)
    if base.infra is None:
        return ModeComparison({}, base)
    names = mode_names(base.infra)
    if not names:
        diag = Diagnostics(base.diag.document, loader.display_name(infra))
        diag.at_location("MODE001", "error", "--compare-modes: infra.yml declares no `modes:`; add the modes to "
                         "compare under `modes:`", "<command line>", 1, 1, "--compare-modes")
        return ModeComparison({}, Compilation(base.source, base.output_dir, diag))
    return ModeComparison({name: _compiled(infra, name, output_dir) for name in names})


def compare_table(comparison: ModeComparison) -> str:
    """Consumer -> GPU per mode (`(disabled)` where a mode disables it, `(no GPU)` where it has no GPU access
    there), VRAM used/total per GPU per mode, and each mode's errors and warnings."""
    results = {m: (r.need_infra(), r.need_placement()) for m, r in comparison.results.items()}
    names = list(results)
    consumers = sorted({c for infra, _ in results.values() for c in infra.consumers})
    gpus = sorted({k for infra, _ in results.values() for k in infra.gpus})
    rows = [("CONSUMER",) + tuple(names)]
    for consumer in consumers:
        cells = []
        for infra, placement in results.values():
            assignment = placement.assignments.get(consumer)
            if consumer not in infra.consumers:   # disabled by the mode, or declared without GPU access there
                cells.append("(no GPU)" if consumer in consumer_paths(infra.data) else "(disabled)")
            else:
                cells.append(", ".join(assignment.gpus) if assignment and assignment.gpus else "(none)")
        rows.append((consumer,) + tuple(cells))
    gpu_rows = [("GPU VRAM",) + tuple(names)]
    for key in gpus:
        cells = []
        for _, placement in results.values():
            use = placement.gpus.get(key)
            cells.append("-" if use is None else f"{fmt_gb(use.used_gb)}/{fmt_gb(use.capacity_gb)} GB"
                         + (" !" if use.used_gb > use.capacity_gb + 1e-9 else "")
                         + (" (unavailable)" if use.status == "unavailable" else ""))
        gpu_rows.append((key,) + tuple(cells))
    counts = comparison.counts()
    findings = [("FINDINGS",) + tuple(names),
                ("errors",) + tuple(str(counts[m][0]) for m in names),
                ("warnings",) + tuple(str(counts[m][1]) for m in names)]
    return "\n\n".join(table(t) for t in (rows, gpu_rows, findings)) + "\n"
