"""What `psot sync` decides: compile (or let the no-op record answer), plan, then write generated/ or refuse.

In order:

- the no-op record (workspace/cache.py) answers an unchanged input against an untouched tree without
  compiling; else the input is compiled (an input with errors stops here: nothing is written) and
  planned against the tree on disk;
- unless nothing may be written (`--check`, `--dry-run`), what a killed sync left beside the tree is
  cleaned first, also when this sync writes nothing;
- `--check` stops there: the plan says whether generated/ is up to date;
- a file edited by hand (drift) blocks the sync when the sync would rewrite or delete it, unless
  `--force`: one DRIFT001 per file, and nothing is written;
- the tree is written (workspace/writer.py), all of it or nothing; orphans are deleted only with
  `--clean-orphans`, else kept and listed;
- a sync that compiled, wrote and kept no orphan leaves the no-op record for the next one;
- a sync that compiled and wrote leaves the incremental caches (workspace/incremental.py): the bytes it
  rendered by content and the files on disk it can vouch for, which the next plan does not read again,
  and the top-level entries of infra.yml it parsed (workspace/parse_cache.py).

The outcome, `Synced`, is what the command prints (text or JSON) and exits with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.diagnostics.findings import Diagnostics, Finding
from generator.pipeline import Compilation, compile_infra, expected_output_dir
from generator.plan.changes import Drift, Plan, make_plan
from generator.workspace import cache, incremental
from generator.workspace.writer import WriteError, tidy, write


@dataclass(frozen=True)
class Options:
    """The choices of `psot sync` (its flags)."""
    check: bool = False            # write nothing; say whether generated/ is up to date
    dry_run: bool = False          # write nothing; show the plan
    force: bool = False            # overwrite files edited by hand
    clean_orphans: bool = False    # delete the files psot no longer generates


@dataclass
class Synced:
    """What a sync did: `error` says why psot could not do its part (exit 3); else a `plan` of None is an input
    with errors (in `result`); else exactly one of: `options.check` (nothing written), `drift` (blocked,
    nothing written), or the tree as `written` (nothing under --dry-run), with the `orphans` it kept."""
    result: Compilation
    options: Options
    plan: Plan | None = None
    error: str | None = None
    drift: list[Finding] = field(default_factory=list)   # DRIFT001, one per hand edit the sync would overwrite
    written: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    def need_plan(self) -> Plan:
        """The plan of a sync that got as far as planning."""
        assert self.plan is not None, "the sync stopped before it planned"
        return self.plan

    @property
    def stale(self) -> bool:
        """--check: generated/ is not what the input compiles to."""
        return bool(self.need_plan().changes)


def sync(infra: Path, output_dir: Path | None, options: Options) -> Synced:
    """Compile `infra` (or let the no-op record answer) and make `output_dir` (default: the input's) match it."""
    try:
        # Nothing changed since the tree on disk was compiled: no need to compile (see workspace/cache.py).
        cached = cache.lookup(infra, output_dir)
    except OSError:
        cached = None   # generated/ could not be read whole (other syncs swapping it): compile, and plan again
    if cached is not None:
        result, the_plan = cached
    else:
        result = compile_infra(infra, output_dir=output_dir)
        if not result.ok:
            return Synced(result, options)
        try:
            the_plan = make_plan(result.need_tree(), result.output_dir, incremental.unchanged_files(result.output_dir))
        except OSError as exc:
            return Synced(result, options, error=f"cannot read {result.output_dir}: {exc.strerror or exc}")
    synced = Synced(result, options, the_plan)
    writes = not options.check and not options.dry_run
    try:
        if writes:
            tidy(result.output_dir)   # what a killed sync left, also when this one writes nothing
        if options.check:
            return synced
        # A hand edit blocks only a file this sync would rewrite or delete.
        touched = {c.path for c in the_plan.changes if c.action != "delete" or options.clean_orphans}
        blocking = [d for d in the_plan.drift if d.path in touched]
        if blocking and not options.force and writes:
            synced.drift = drift_findings(result, blocking)
            return synced
        if writes:
            synced.written = write(the_plan, result.need_tree(), clean_orphans=options.clean_orphans)
            if result.memo is not None:   # compiled, not answered by the no-op record
                result.memo.save(result.output_dir)
                incremental.record_files(result.output_dir, result.need_tree(), synced.written)
            if result.parse_memo is not None and expected_output_dir(infra, output_dir) == result.output_dir:
                result.parse_memo.save(result.output_dir)   # where the next compile looks, before reading infra.yml
    except WriteError as exc:
        synced.error = str(exc)
        return synced
    synced.orphans = [c.path for c in the_plan.changes if c.action == "delete" and not options.clean_orphans]
    if cached is None and not options.dry_run and not synced.orphans:
        cache.record(result, output_dir)
    return synced


def drift_findings(result: Compilation, drift: list[Drift]) -> list[Finding]:
    """Drift as compiler findings: the file, the first line psot would write differently, what to do."""
    where, diag = result.output_dir.name, Diagnostics()
    for d in drift:
        diag.at_location("DRIFT001", "error", f"edited by hand since psot wrote it; move the change into "
                         f"{result.source.name} (generated files are rewritten by every sync), or run "
                         "`psot sync --force` to overwrite it", f"{where}/{d.path}", d.line, 1)
    return diag.findings
