"""How `psot apply`, `psot apply FILE`, `psot apply --status` and `psot rollback` print their outcomes
(apply/service.py, apply/saved_plan.py), for people (text) or machines (one JSON document), and the exit
code each gives: 0 done (or nothing to do), 1 refused or not approved, 2 --status with something pending,
3 psot could not do its part."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from generator.apply import units as tg
from generator.apply.saved_plan import Checked, InputErrors
from generator.apply.service import (
    Cancelled,
    DryRun,
    Failed,
    MissingTools,
    Nothing,
    Ran,
    Refused,
    Result,
    Status,
    unit_dict,
)
from generator.cli import colour
from generator.cli.common import EXIT_CHANGES, EXIT_ERRORS, EXIT_OK, EXIT_TOOL, fail
from generator.diagnostics.findings import one_line
from generator.pipeline import Compilation
from generator.plan.marks import sign


def show_units(units: list[tg.Unit], say: Callable[[str], None]) -> None:
    """Each unit, its mark and label, then its commands, what is left to do by hand and why."""
    for unit in units:
        say(colour.plan(f"{sign(unit.action)} {one_line(unit.label)}"))
        for step in unit.steps:
            say(f"    {'by hand: ' if step.manual else '$ '}{step.display()}")
        if not unit.steps and not unit.note:
            say("    (no command: recorded only)")
        if unit.blocked:
            say(f"    not applied: {one_line(unit.blocked)}")
        if unit.note:
            say(f"    note: {one_line(unit.note)}")


def show_drift(drift: list[tg.LiveDrift], say: Callable[[str], None]) -> None:
    """The objects changed on the machines since psot applied them, and how; `psot apply` puts them back."""
    if not drift:
        return
    say(f"Changed on the machines since they were applied ({len(drift)}; `psot apply` puts back what was "
        "applied):")
    for found in drift:
        say(f"  ! {one_line(found.path)}")
        for difference in found.differences:
            say(f"      {one_line(difference)}")


def outcome(done: Result | InputErrors | Checked, result: Compilation | None, fmt: str) -> int:
    """Print what an apply or a rollback came to; `result` is the compilation it applied (None: a saved plan)."""
    if isinstance(done, InputErrors):
        return fail(done.result, fmt)
    if isinstance(done, Refused):
        return refused(done, fmt)
    if isinstance(done, Failed):
        return failed(done, fmt)
    if isinstance(done, MissingTools):
        return _missing(done, fmt)
    if isinstance(done, Checked):
        return _checked(done, fmt)
    if isinstance(done, Cancelled):
        click.echo(f"\n{done.kind.capitalize()} cancelled: nothing was run.", err=True)
        return EXIT_ERRORS
    if isinstance(done, Nothing):
        if fmt == "json":
            click.echo(json.dumps({"status": "nothing", "kind": done.kind, "units": []}, indent=2))
        else:
            what = "generated/" if done.kind == "apply" else "the previous apply"
            click.echo(f"Nothing to {done.kind}: the machines have what {what} says.")
        return EXIT_OK
    if isinstance(done, DryRun):
        if fmt == "json":
            click.echo(json.dumps({"status": "dry-run", "kind": done.kind,
                                   "units": [unit_dict(u) for u in done.units]}, indent=2))
        else:
            show_units(done.units, click.echo)
            click.echo(f"Dry run: {len(done.units)} to {done.kind}; nothing was run.")
        return EXIT_OK
    return _ran(done, result, fmt)


def refused(done: Refused, fmt: str) -> int:
    if fmt == "json":
        click.echo(json.dumps({"status": "refused", "reason": done.reason} | done.details, indent=2))
    else:
        if done.plan is not None:
            click.echo(colour.plan(done.plan.to_text()), nl=False, err=True)
        click.echo(f"psot: {done.reason}{done.ending}", err=True)
    return EXIT_ERRORS


def failed(done: Failed, fmt: str) -> int:
    if fmt == "json":
        click.echo(json.dumps({"status": "error", "reason": done.reason} | done.details, indent=2))
    else:
        click.echo(f"psot: {done.reason}", err=True)
    return EXIT_TOOL


def _missing(done: MissingTools, fmt: str) -> int:
    messages = [f"`{tool}` is not on PATH; it is needed for {', '.join(files)}. Install it, or leave that "
                "platform out with --target; nothing was applied." for tool, files in sorted(done.missing.items())]
    if fmt == "json":
        click.echo(json.dumps({"status": "error", "kind": done.kind, "reason": " ".join(messages),
                               "missing": dict(sorted(done.missing.items()))}, indent=2))
    else:
        for message in messages:
            click.echo(f"psot: {message}", err=True)
    return EXIT_TOOL


def _checked(done: Checked, fmt: str) -> int:
    if fmt == "json":
        click.echo(json.dumps({"status": "dry-run", "changes": done.plan.to_dict()["changes"],
                               "commands": [p.to_dict() for p in done.programs],
                               "units": [unit_dict(u) for u in done.units]}, indent=2))
    else:
        click.echo(colour.plan(done.plan.to_text()), nl=False)
        show_units(done.units, click.echo)
        click.echo(f"Dry run: {done.path.name} checks out ({len(done.units)} to apply, as it says); nothing was "
                   "written or run.")
    return EXIT_OK


def _ran(done: Ran, result: Compilation | None, fmt: str) -> int:
    run, kind, record = done.outcome, done.kind, done.record
    if fmt == "json":
        click.echo(json.dumps({"status": record.get("status"), "kind": kind, "units": record.get("units", []),
                               "record": str(done.record_path)}, indent=2))
        return EXIT_OK if run.ok else EXIT_ERRORS
    verb = kind.capitalize()
    if run.failed is None:   # run.ok, in a form mypy narrows
        line = f"{verb} complete: {len(run.applied)} applied"
        if run.blocked:
            line = f"{verb} incomplete: {len(run.applied)} applied, {len(run.blocked)} need you first"
        click.echo(line + ".")
        if kind == "rollback" and result is not None:
            click.echo(f"{result.output_dir.name}/ still holds the newer files: revert the change in "
                       f"{result.source.name} and run `make sync`, or `psot apply` to go forward again.")
        return EXIT_OK
    click.echo(f"{verb} failed at {one_line(run.failed.label)}: {len(run.applied)} applied, "
               f"1 failed, {len(run.not_run)} not run. Fix the cause and run `psot {kind}` again: "
               f"it resumes from there. Record: {done.record_path}", err=True)
    for unit in run.not_run:
        click.echo(f"  not applied: {one_line(unit.label)}", err=True)
    return EXIT_ERRORS


def status(state: Status, result: Compilation, fmt: str) -> int:
    """What is applied, what changed on the machines by hand, what is pending (exit 2 when either is), and how
    the last run ended."""
    if fmt == "json":
        click.echo(json.dumps({
            "applied": state.applied,
            "pending": [{"path": p, "action": a, "target": tg.target_of(p)} for a, p in state.pending],
            "generated_up_to_date": state.up_to_date,
            "drift": [d.to_dict() for d in state.drift],
            "notes": state.notes,
            "mode": state.mode,
            "last_apply": state.record}, indent=2))
        return EXIT_CHANGES if state.pending or state.drift else EXIT_OK
    where = f"{result.output_dir.name}/"
    _last_run(state.record)
    click.echo(f"{len(state.applied)} file(s) applied.")
    click.echo(f"Active GPU mode: {mode_text(state.mode)}.")
    switching = state.mode.get("switching")
    if switching:
        click.echo(f"A switch from {mode_text(switching['from'])} to {mode_text(switching['to'])} did not complete: "
                   "run the same `psot switch` again to finish it.")
    for note in state.notes:
        click.echo(f"note: {one_line(note)}")
    show_drift(state.drift, click.echo)
    if state.pending:
        click.echo(f"Pending ({where} differs from what was applied):")
        for action, path in state.pending:
            click.echo(f"  {sign(action)} {path}")
        click.echo("Run `psot apply` (make apply-infra) to apply them.")
    elif state.drift:
        click.echo(f"No file pending: {where} is what was applied; run `psot apply` to put back what changed.")
    else:
        click.echo(f"Nothing pending: the machines have what {where} says.")
    if not state.up_to_date:
        click.echo(f"{where} is not up to date with {result.source.name}: run `psot sync` first.")
    return EXIT_CHANGES if state.pending or state.drift else EXIT_OK


def mode_text(mode: dict[str, Any]) -> str:
    """`ai`, `ai without pve/gtx-970`, `the base file` (no mode)."""
    name = mode.get("mode")
    without = mode.get("without") or []
    return (str(name) if name else "the base file") + (f" without {', '.join(map(str, without))}" if without else "")


def _last_run(record: dict | None) -> None:
    """The last apply or rollback: how it ended, and the command of each unit that failed or never finished."""
    if record is None:
        click.echo("Never applied.")
        return
    units = record.get("units", [])
    counts = {s: sum(1 for u in units if u.get("status") == s) for s in ("applied", "failed", "running",
                                                                          "not run", "blocked")}
    when = record.get("finished") or record.get("started")
    click.echo(f"Last {record.get('kind', 'apply')}: {record.get('status')} ({when}): "
               + ", ".join(f"{n} {'started, outcome unknown' if s == 'running' else s}"
                           for s, n in counts.items() if n))
    for unit in units:
        if unit.get("status") in ("failed", "running"):
            last = unit["commands"][-1] if unit.get("commands") else {}
            word = "failed" if unit.get("status") == "failed" else "started, outcome unknown"
            click.echo(f"  {word}: {', '.join(unit['files'])}: $ {last.get('command', '?')}")
            for line in str(last.get("stderr", last.get("refused", ""))).splitlines()[-5:]:
                click.echo(f"    ! {line}")
