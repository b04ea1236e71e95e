"""`psot place` for people: the placement as tables, side by side, and what a failure moves.

Seed 001's preview in a terminal: per GPU a bar of VRAM used/total and its
consumers; per consumer its GPU, budget and fallbacks; `--compare` puts the
five strategies side by side; `--without` lists the consumers that move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.diagnostics.findings import one_line
from generator.model.core import Infra
from generator.placement.core import BALANCE_OBJECTIVE, Placement, fmt_gb

BAR_WIDTH = 20


def bar(used: float, capacity: float, width: int = BAR_WIDTH) -> str:
    """`[██████░░░░]`, ending in `!` when the GPU is over capacity."""
    share = used / capacity if capacity > 0 else 0.0
    filled = min(width, round(width * min(share, 1.0)))
    return "[" + "█" * filled + "░" * (width - filled) + "]" + ("!" if share > 1 + 1e-9 else "")


def table(rows: Sequence[tuple[str, ...]]) -> str:
    """Columns aligned, every cell escaped to one line (findings.one_line)."""
    rows = [tuple(one_line(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def placement_table(infra: Infra, placement: Placement) -> str:
    """Per GPU: a VRAM bar, used/total and its consumers; then per consumer: GPU, budget, fallback."""
    gpus = [("GPU", "STATUS", "VRAM", "USED/TOTAL", "CONSUMERS")]
    for key, use in placement.gpus.items():
        gpus.append((key, use.status, bar(use.used_gb, use.capacity_gb),
                     f"{fmt_gb(use.used_gb)}/{fmt_gb(use.capacity_gb)} GB", ", ".join(use.consumers) or "-"))
    consumers = [("CONSUMER", "GPU", "VRAM", "BUDGET", "FALLBACK")]
    for name, a in placement.assignments.items():
        budget = infra.consumers[name].request.budget
        budget_text = "-" if a.budget_gb is None or budget is None else f"{fmt_gb(a.budget_gb)} GB ({budget.env})"
        consumers.append((name, ", ".join(a.gpus) or "(none)", f"{fmt_gb(a.vram_gb)} GB", budget_text,
                          ", ".join(a.fallback) or "-"))
    out = [f"Strategy: {one_line(placement.strategy)}", "", table(gpus), "", table(consumers)]
    if placement.balance is not None:
        out += ["", f"Objective: {BALANCE_OBJECTIVE}", placement.balance.summary()]
    if placement.unplaced:
        out += ["", "Unplaced: " + one_line(", ".join(placement.unplaced))]
    return "\n".join(out) + "\n"


def compare_table(infra: Infra, placements: dict[str, Placement], counts: dict[str, tuple[int, int]]) -> str:
    """The strategies side by side: consumer -> GPU, VRAM used/total per GPU, errors and warnings."""
    names = list(placements)
    rows = [("CONSUMER",) + tuple(names)]
    for consumer in infra.consumers:
        rows.append((consumer,) + tuple(", ".join(placements[s].assignments[consumer].gpus) or "(none)"
                                        for s in names))
    gpu_rows = [("GPU VRAM",) + tuple(names)]
    for key in infra.gpus:
        gpu_rows.append((key,) + tuple(_use_cell(placements[s], key) for s in names))
    findings = [("FINDINGS",) + tuple(names),
                ("errors",) + tuple(str(counts[s][0]) for s in names),
                ("warnings",) + tuple(str(counts[s][1]) for s in names)]
    out = "\n\n".join(table(t) for t in (rows, gpu_rows, findings)) + "\n"
    balanced = [(s, p.balance) for s, p in placements.items() if p.balance is not None]
    return out + "".join(f"\n{s}: {b.summary()}\n" for s, b in balanced)


def _use_cell(placement: Placement, key: str) -> str:
    """`3.5/4 GB` as `--strategy` shows it: `!` when over capacity, `(unavailable)` for a GPU that takes nothing."""
    use = placement.gpus[key]
    text = f"{fmt_gb(use.used_gb)}/{fmt_gb(use.capacity_gb)} GB"
    if use.used_gb > use.capacity_gb + 1e-9:
        text += " !"
    return text + (" (unavailable)" if use.status == "unavailable" else "")


@dataclass(frozen=True)
class Move:
    consumer: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"consumer": self.consumer, "from": list(self.before), "to": list(self.after)}

    def text(self) -> str:
        return one_line(f"{self.consumer}: {', '.join(self.before) or '(no GPU)'} -> "
                        f"{', '.join(self.after) or '(no GPU)'}")


def moves(before: Placement, after: Placement) -> list[Move]:
    """Consumers whose GPUs differ between two placements of the same input, by name."""
    return [Move(name, a.gpus, after.assignments[name].gpus)
            for name, a in before.assignments.items() if a.gpus != after.assignments[name].gpus]
