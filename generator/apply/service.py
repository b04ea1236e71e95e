"""What `psot apply` and `psot rollback` decide and do; the commands (cli/apply.py) ask and print.

Before anything runs, even a read-only query: generated/ must be what infra.yml compiles to (`stale`),
and PSOT_APPLY_TIMEOUT a duration (`timeout_refusal`). Then, under the lock every sync and apply
holds: every file psot renders must be on disk byte for byte what it renders (`bytes_refusal`: apply
sends only psot's own bytes); the units are derived from the tree and the applied state
(apply/units.py and platforms/<name>/apply.py); every program they need must be on PATH; the command
confirms (`Run.confirm`); the applied state is kept for rollback; the units run (apply/engine.py).

Each step ends in one of the outcomes below, which the command prints (text or JSON) and exits with.
A saved plan (`psot apply plan.json`) is checked and applied by apply/saved_plan.py, with the same steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.apply import units as tg
from generator.apply.engine import (
    STEP_TIMEOUT_DEFAULT_S,
    STEP_TIMEOUT_ENV,
    Outcome,
    StateError,
    execute,
    missing_tools,
    query_with,
    run_step,
)
from generator.apply.state import State, tree_digest
from generator.diagnostics.findings import one_line
from generator.env_settings import SettingError, seconds
from generator.pipeline import Compilation
from generator.plan.changes import Plan, make_plan, read_tree
from generator.workspace.writer import WriteError, locked

LISTED = 5                    # files named in a refusal, then how many more


# --- the outcomes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refused:
    """psot will not apply (exit 1): `reason` (JSON), followed in text by `ending`."""
    reason: str
    ending: str = "."
    details: dict[str, Any] = field(default_factory=dict)   # JSON fields after status and reason
    plan: Plan | None = None                                # the plan generated/ is behind by, shown first


@dataclass(frozen=True)
class Failed:
    """psot could not do its part (I/O, its own state, a setting): exit 3."""
    reason: str
    details: dict[str, Any] = field(default_factory=dict)   # JSON fields after status and reason


@dataclass(frozen=True)
class MissingTools:
    """Programs the units need that are not on PATH (program -> the units that need it): exit 3."""
    kind: str
    missing: dict[str, list[str]]


@dataclass(frozen=True)
class Nothing:
    """The machines have what the tree says: nothing to run."""
    kind: str


@dataclass(frozen=True)
class DryRun:
    """--dry-run: the units that would run; nothing ran."""
    kind: str
    units: list[tg.Unit]


@dataclass(frozen=True)
class Cancelled:
    """The confirmation was not given: nothing ran (exit 1)."""
    kind: str


@dataclass(frozen=True)
class Ran:
    """The units ran: `outcome` says how far, `record` (read back from `record_path`) what each did."""
    kind: str
    units: list[tg.Unit]
    outcome: Outcome
    record: dict[str, Any]
    record_path: Path


Result = Refused | Failed | MissingTools | Nothing | DryRun | Cancelled | Ran


@dataclass(frozen=True)
class Run:
    """How the units run: --dry-run, and the command's hands (asking, showing what runs)."""
    dry_run: bool = False
    confirm: Callable[[str, list[tg.Unit]], bool] | None = None   # asked before anything runs; None: approved
    progress: Callable[[str], None] = lambda line: None           # a line of what runs, for people


# --- before anything runs ----------------------------------------------------------------------------

def stale(result: Compilation) -> Refused | None:
    """Refuse to apply a generated/ that is not what infra.yml compiles to."""
    the_plan = make_plan(result.need_tree(), result.output_dir)
    if not the_plan.changes:
        return None
    where = f"{result.output_dir.name}/"
    orphans = sum(1 for c in the_plan.changes if c.action == "delete")
    if orphans == len(the_plan.changes):
        # `psot sync` keeps orphans; only --clean-orphans gets apply past them.
        message = (f"{where} holds {orphans} file{'s' if orphans != 1 else ''} that {result.source.name} no longer "
                   f"generates: run `psot sync --clean-orphans` to delete {'them' if orphans != 1 else 'it'}, then "
                   "`psot apply --clean-orphans` to remove what they made from the machines too; nothing was applied")
    else:
        message = (f"{where} is not up to date with {result.source.name} ({len(the_plan.changes)} file"
                   f"{'s' if len(the_plan.changes) != 1 else ''} differ): run `psot sync` (make sync), review the "
                   "diff, then apply" + (" (`psot sync --clean-orphans` also deletes the files no longer generated)"
                                         if orphans else "") + "; nothing was applied")
    return Refused(message, details={"changes": the_plan.to_dict()["changes"]}, plan=the_plan)


def timeout_refusal() -> Failed | None:
    """A bad PSOT_APPLY_TIMEOUT, refused before anything runs."""
    try:
        seconds(STEP_TIMEOUT_ENV, STEP_TIMEOUT_DEFAULT_S)
    except SettingError as exc:
        return Failed(f"{exc}; nothing was applied")
    return None


def _files(paths: list[str], where: str) -> str:
    named = ", ".join(f"{where}{p}" for p in paths[:LISTED])
    return named + (f" and {len(paths) - LISTED} more" if len(paths) > LISTED else "")


def bytes_refusal(result: Compilation, skip: frozenset[str] = frozenset()) -> Refused | None:
    """Refuse when a file on disk is not, byte for byte, what psot renders: apply sends only psot's own bytes.

    (A hand edit can read as the same YAML data to psot and as something else to a platform's own reader.)
    """
    on_disk = read_tree(result.output_dir)
    differ = [p for p, content in sorted(result.need_tree().items()) if p not in skip and on_disk.get(p) != content]
    if not differ:
        return None
    where = f"{result.output_dir.name}/"
    message = (f"{_files(differ, where)} {'is' if len(differ) == 1 else 'are'} not byte for byte what psot renders "
               f"from {result.source.name} (edited by hand?), and apply sends only the bytes psot renders: see the "
               f"edit with `psot plan`, move it into {result.source.name} or drop it with `psot sync --force`, then "
               "apply; nothing was applied")
    return Refused(message, details={"files": differ})


def mode_refusal(result: Compilation, state: State) -> Refused | None:
    """Refuse to apply generated/'s mode over another one `psot switch` put the machines in (or half-way through
    a switch): files alone would undo the switch without its stops and card moves."""
    mode = active_mode(state, result.mode)
    compiled: dict[str, Any] = {"mode": result.mode, "without": []}
    if "switching" not in mode and mode == compiled:
        return None
    if "switching" in mode:
        why = "a `psot switch` did not complete: run it again to finish it first"
    else:
        now = repr(mode.get("mode")) if mode.get("mode") else "the base file"
        if mode.get("without"):
            now += " without " + ", ".join(map(str, mode["without"]))
        ours = repr(result.mode) if result.mode else "the base file"
        back = f"psot switch {result.mode}" if result.mode else "psot switch"
        why = (f"the machines are in mode {now} (psot switch) and {result.output_dir.name}/ is for {ours}: run "
               f"`{back}` to go back in order, or set global.mode to the active mode and `psot sync`")
    return Refused(f"{why}; nothing was applied", ending="")


def os_failure(exc: OSError) -> Failed:
    where = f"{exc.filename}: " if exc.filename else ""
    return Failed(f"{where}{exc.strerror or exc}; nothing more was run")


# --- the units ---------------------------------------------------------------------------------------

def context(result: Compilation, source_root: Path, clean_orphans: bool) -> tg.Context:
    """What deriving the units needs: the input, where the files are read from, and the platforms' answers."""
    root = result.source.resolve().parent
    return tg.Context(result.need_infra().data, root, source_root, clean_orphans, query_with(run_step, root))


def programs(result: Compilation) -> list[tg.Program]:
    """The programs `psot apply` will use for this compilation, and where (the plan shows them)."""
    return tg.programs(result.need_tree(), result.need_infra().data)


def unit_dict(unit: tg.Unit) -> dict[str, Any]:
    """A unit as JSON, as a saved plan keeps it and --dry-run prints it."""
    return {"target": unit.target, "action": unit.action, "files": list(unit.files),
            "commands": [s.display() for s in unit.steps if not s.manual],
            "by_hand": [s.display() for s in unit.steps if s.manual] + ([unit.note] if unit.note.startswith(
                "by hand") else []),
            "note": unit.note, "blocked": unit.blocked}


def run_units(units: list[tg.Unit], result: Compilation, state: State, run: Run, *, kind: str,
              desired: dict[str, bytes], ctx: tg.Context, previous_after: dict[str, bytes] | None = None) -> Result:
    """Run `units` (under the lock), keeping the applied state for rollback first.

    `previous_after`: what previous/ holds once a rollback succeeded (the state it rolled back from, kept in
    rolled-back/ until then, so that a rollback resumed after a failure still has it).
    """
    for note in ctx.notes:
        run.progress(f"note: {note}")
    if ctx.refusals:
        return Refused(f"{kind} would fail: " + "; ".join(ctx.refusals), ending="; nothing was run.",
                       details={"kind": kind, "problems": list(ctx.refusals)})
    if not units:
        return Nothing(kind)
    if run.dry_run:
        return DryRun(kind, units)
    missing = missing_tools(units)
    if missing:
        return MissingTools(kind, missing)
    if run.confirm is not None and not run.confirm(kind, units):
        return Cancelled(kind)
    last = state.read_record() or {}
    try:
        if previous_after is None and last.get("status") not in ("failed", "running"):
            # A new apply: remember what was applied before it, for rollback. (Resuming a failed apply keeps the
            # state from before that apply.)
            state.snapshot_previous()
    except OSError as exc:
        return Failed(f"could not keep the applied state for rollback in {state.previous_dir} "
                      f"({exc.strerror or exc}); nothing was applied", {"kind": kind})
    try:
        if previous_after is None:
            state.drop_rolled_back()       # going forward: no rollback is under way any more
        else:
            state.keep_rolled_back(previous_after)
    except OSError as exc:
        return Failed(f"could not keep the state the {kind} starts from in {state.rolled_back_dir} "
                      f"({exc.strerror or exc}); nothing was applied", {"kind": kind})
    try:
        outcome = execute(units, state, result.source.resolve().parent, kind=kind, tree_digest=tree_digest(desired),
                          echo=lambda line: run.progress(one_line(line)))  # names from files reach the terminal
        if outcome.ok and previous_after is not None:
            state.snapshot_previous(previous_after)
            state.drop_rolled_back()
    except StateError as exc:
        return Failed(f"{kind} stopped: {exc}", {"kind": kind, "record": str(state.record_path)})
    except OSError as exc:
        return Failed(f"{kind} complete, but {state.previous_dir} could not be updated ({exc.strerror or exc}): "
                      f"a second rollback would not go forward again", {"kind": kind})
    return Ran(kind, units, outcome, state.read_record() or {}, state.record_path)


# --- the commands ------------------------------------------------------------------------------------

def apply(result: Compilation, targets: tuple[str, ...], clean_orphans: bool, run: Run) -> Result:
    """Apply what changed in generated/ since the last apply (`result`: compiled, checked up to date)."""
    try:
        with locked(result.output_dir):
            # Under the lock, so no sync swaps the tree between this check and the commands.
            refused = bytes_refusal(result)
            if refused is not None:
                return refused
            state = State(result.output_dir)
            refused = mode_refusal(result, state)
            if refused is not None:
                return refused
            # What is sent is what psot rendered just now, never bytes read back from disk.
            desired = dict(result.need_tree())
            ctx = context(result, result.output_dir, clean_orphans)
            units = tg.units(desired, state.applied(), ctx, targets)
            return run_units(units, result, state, run, kind="apply", desired=desired, ctx=ctx)
    except WriteError as exc:
        return Failed(str(exc))
    except OSError as exc:
        return os_failure(exc)


def rollback(result: Compilation, targets: tuple[str, ...], clean_orphans: bool, run: Run) -> Result:
    """Re-apply the tree that was applied before the last apply (`result`: compiled up to the model)."""
    try:
        with locked(result.output_dir):
            state = State(result.output_dir)
            # Read once: these bytes are what is sent (a command that reads a file itself finds it checked
            # against them just before it runs).
            previous = state.previous()
            if previous is None:
                return Refused("nothing to roll back to: no apply has changed anything yet.", ending="")
            applied = state.applied()
            # A rollback that failed (or was stopped) and is run again goes on from where it stopped, and still
            # knows the state it rolls back from: rolled-back/, kept when it started.
            last = state.read_record() or {}
            resumed = state.rolled_back() if last.get("kind") == "rollback" and last.get("status") in (
                "failed", "running") else None
            ctx = context(result, state.previous_dir, clean_orphans)
            units = tg.units(previous, applied, ctx, targets)
            return run_units(units, result, state, run, kind="rollback", desired=previous, ctx=ctx,
                             previous_after=applied if resumed is None else resumed)
    except WriteError as exc:
        return Failed(str(exc))
    except OSError as exc:
        return os_failure(exc)


@dataclass(frozen=True)
class Status:
    """`psot apply --status`, for the targets asked (all when none)."""
    applied: list[str]                   # the files applied, sorted
    pending: list[tuple[str, str]]       # (action, path) of what generated/ has and the machines do not
    up_to_date: bool                     # generated/ is what infra.yml compiles to
    record: dict[str, Any] | None        # the record of the last apply or rollback
    drift: list[tg.LiveDrift] = field(default_factory=list)   # applied objects changed on the machines by hand
    notes: list[str] = field(default_factory=list)            # what could not be asked
    # The active GPU mode (`psot switch`, mode.json): {"mode", "without"}, and the switch under way if any.
    mode: dict[str, Any] = field(default_factory=dict)


def live_drift(result: Compilation, applied: dict[str, bytes], targets: tuple[str, ...] = (),
               refresh: bool = True) -> tuple[list[tg.LiveDrift], list[str]]:
    """What the machines have otherwise than psot applied, read back from them (`refresh`), and the notes of
    what could not be asked. Nothing is asked when nothing was applied."""
    if not refresh or not applied:
        return [], []
    ctx = context(result, result.output_dir, False)
    return tg.drift(applied, ctx, targets), ctx.notes


def status(result: Compilation, targets: tuple[str, ...]) -> Status:
    state = State(result.output_dir)
    applied = state.applied()
    pending = [(a, p) for a, p in tg.pending(read_tree(result.output_dir), applied)
               if not targets or tg.target_of(p) in targets]
    drift, notes = live_drift(result, applied, targets)
    return Status(sorted(p for p in applied if not targets or tg.target_of(p) in targets), pending,
                  not make_plan(result.need_tree(), result.output_dir).changes, state.read_record(), drift, notes,
                  active_mode(state, result.mode))


def active_mode(state: State, configured: str | None) -> dict[str, Any]:
    """The mode the machines are in: the one `psot switch` last completed (mode.json), else the one infra.yml
    compiles with (`global.mode`, None for the base file); with the switch under way, when one did not complete."""
    recorded = state.read_mode() or {}
    active = recorded.get("active") if isinstance(recorded.get("active"), dict) else None
    out: dict[str, Any] = dict(active) if active else {"mode": configured, "without": []}
    if isinstance(recorded.get("switching"), dict):
        out["switching"] = {k: recorded["switching"].get(k) for k in ("from", "to")}
    return out
