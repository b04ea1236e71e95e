"""What `psot place` shows (it writes nothing): one strategy's placement, also with GPUs gone, or all of them.

- `preview`: the placement by a strategy (default: the input's); with `--without` GPUs, the placement
  without them (failover.py) and the consumers that move, each a PLACE008 warning.
- `compare`: the placement by every strategy, side by side (`--compare`); with `--without` GPUs, each
  strategy's placement without them and its moves, as `preview` gives them for that strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.diagnostics.findings import Finding
from generator.pipeline import Compilation, compile_infra
from generator.placement import report
from generator.placement.core import STRATEGY_NAMES
from generator.placement.failover import fail_over


@dataclass
class Preview:
    """The placement to show: `result.placement` is None when placing failed (its findings say why)."""
    result: Compilation
    without: tuple[str, ...] = ()                 # the GPUs placed as gone, as host/gpu
    moves: list[report.Move] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)   # PLACE008 per move, also in result.diag


def preview(infra: Path, strategy: str | None, without: tuple[str, ...], output_dir: Path | None,
            mode: str | None = None) -> Preview:
    """Place `infra` by `strategy` in `mode` (None: global.mode, else the base file); with `without`, again
    without those GPUs (a GPU name or host/gpu)."""
    baseline = compile_infra(infra, strategy=strategy, until="place", output_dir=output_dir, mode=mode)
    if not without or baseline.placement is None:
        return Preview(baseline)
    failover = fail_over(baseline, without)
    warnings = failover.warnings()
    failover.after.diag.extend(warnings)
    return Preview(failover.after, failover.gone, failover.moves, warnings)


@dataclass
class Comparison:
    """Every strategy's preview (placed, and with `without` what moves), in STRATEGY_NAMES order."""
    previews: dict[str, Preview]
    without: tuple[str, ...] = ()                 # the GPUs placed as gone, as host/gpu

    @property
    def results(self) -> dict[str, Compilation]:
        """Strategy -> the compilation shown (without the GPUs `without` when given)."""
        return {s: p.result for s, p in self.previews.items()}

    @property
    def failed(self) -> Compilation | None:
        """The first compilation that could not place (its findings say why), or None."""
        return next((r for r in self.results.values() if r.placement is None), None)

    def counts(self) -> dict[str, tuple[int, int]]:
        """Strategy -> (errors, warnings) of its placement (PLACE008 moves included)."""
        return {s: (r.diag.error_count, len(r.diag.findings) - r.diag.error_count) for s, r in self.results.items()}

    def moves(self) -> dict[str, list[report.Move]]:
        """Strategy -> the consumers that move without the GPUs `without` (empty without `--without`)."""
        return {s: p.moves for s, p in self.previews.items()}


def compare(infra: Path, without: tuple[str, ...], output_dir: Path | None, mode: str | None = None) -> Comparison:
    """Place `infra` by every strategy in `mode` (None: global.mode, else the base file) and, with `without`,
    again without those GPUs (what moves)."""
    previews = {s: preview(infra, s, without, output_dir, mode) for s in STRATEGY_NAMES}
    gone = next((p.without for p in previews.values() if p.without), ())
    return Comparison(previews, gone)
