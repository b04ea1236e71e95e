"""What `psot plan` assembles: the plan of the compiled tree against generated/, the programs `psot apply`
will use (nothing in generated/ shows them), what changed on the machines by hand since psot applied it
(read back from them unless --no-refresh, as Terraform refreshes; only when something was applied from here),
what the Markdown plan shows besides (the files on disk, the placement.yml there), and with `--out FILE` the
plan saved for `psot apply FILE` (apply/saved_plan.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.apply import saved_plan
from generator.apply.service import live_drift, programs
from generator.apply.state import State
from generator.apply.units import LiveDrift, Program
from generator.pipeline import Compilation, previous_placement
from generator.plan.changes import Plan, make_plan, read_tree
from generator.workspace.incremental import unchanged_files


@dataclass
class Planned:
    """`error` says why psot could not do its part (exit 3); else `plan` is the plan."""
    result: Compilation
    plan: Plan | None = None
    error: str | None = None
    programs: list[Program] = field(default_factory=list)
    on_disk: dict[str, bytes] = field(default_factory=dict)                 # with files: generated/ as it is
    previous: dict[str, tuple[str, ...]] = field(default_factory=dict)     # with files: its placement.yml
    saved: Path | None = None                                              # where the plan was saved
    drift: list[LiveDrift] = field(default_factory=list)                   # changed on the machines by hand
    notes: list[str] = field(default_factory=list)                         # what could not be asked

    def need_plan(self) -> Plan:
        assert self.plan is not None, "the plan could not be made"
        return self.plan


def plan(result: Compilation, *, with_files: bool = False, out: Path | None = None,
         refresh: bool = True) -> Planned:
    """The plan of `result` (compiled without errors); `with_files`: also what is on disk, for the Markdown
    diffs; `out`: save it there; `refresh`: read the machines back for what changed by hand."""
    try:
        the_plan = make_plan(result.need_tree(), result.output_dir, unchanged_files(result.output_dir))
        on_disk = read_tree(result.output_dir) if with_files else {}
        drift, notes = live_drift(result, State(result.output_dir).applied(), refresh=refresh)
    except OSError as exc:
        return Planned(result, error=f"cannot read {result.output_dir}: {exc.strerror or exc}")
    if out is not None:
        try:
            saved_plan.save(result, the_plan, out)
        except OSError as exc:
            return Planned(result, error=f"cannot save the plan to {out}: {exc.strerror or exc}")
    previous = previous_placement(result.output_dir) if with_files else {}
    return Planned(result, the_plan, programs=programs(result), on_disk=on_disk, previous=previous, saved=out,
                   drift=drift, notes=notes)
