"""What moves if GPUs fail: `psot place --without GPU` and `psot detect --check` (DETECT020) both ask it.

The placement is computed again from the model the baseline compilation built, with those GPUs made
unavailable (`model.without`), by the same strategy and from the same previous placement: infra.yml is
not read again, and the two commands cannot disagree on what moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.diagnostics.findings import Diagnostics, Finding
from generator.pipeline import Compilation, place_stage
from generator.placement import report


@dataclass
class Failover:
    after: Compilation              # placed without the GPUs; its placement is None when that failed
    moves: list[report.Move]        # the consumers whose GPUs differ from the baseline's

    @property
    def gone(self) -> tuple[str, ...]:
        """The GPUs placed as gone, as `host/gpu`, however they were named."""
        return self.after.without

    def warnings(self) -> list[Finding]:
        """PLACE008, one per consumer that moves, on its key in infra.yml."""
        diag = Diagnostics(self.after.diag.document, self.after.diag.default_file)
        gone = ", ".join(self.gone)
        for move in self.moves:
            consumer = self.after.need_infra().consumers[move.consumer]
            where = ", ".join(move.after) or "no GPU"
            diag.warning("PLACE008", f"{move.consumer} moves from {', '.join(move.before) or 'no GPU'} "
                         f"to {where}: {gone} is gone", consumer.path, at="key")
        return diag.findings


def fail_over(baseline: Compilation, names: tuple[str, ...]) -> Failover:
    """Place `baseline` (compiled up to "place", without errors) again with the GPUs `names` gone (a GPU
    name or `host/gpu`, as a pin names them; REF005 in `after` for one that names no GPU)."""
    assert baseline.infra is not None and baseline.placement is not None, "fail_over needs a placed baseline"
    diag = Diagnostics(baseline.diag.document, baseline.diag.default_file)
    diag.extend(baseline.model_findings)
    after = Compilation(baseline.source, baseline.output_dir, diag, infra=baseline.infra)
    place_stage(after, baseline.placement.strategy, names)
    moves = report.moves(baseline.placement, after.placement) if after.placement is not None else []
    return Failover(after, moves)
