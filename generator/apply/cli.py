"""`psot apply`, `psot apply --status`, `psot apply plan.json`, `psot rollback`, and `plan --out`.

Registered on the main command group by generator/cli.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from generator import __version__, colour
from generator.apply import targets as tg
from generator.apply.engine import MARKS, Outcome, execute, missing_tools, query_with, run_step
from generator.apply.state import State, tree_digest
from generator.cli import (EXIT_CHANGES, EXIT_ERRORS, EXIT_OK, EXIT_TOOL, _compile, _fail, _print_findings,
                           format_option, output_option)
from generator.pipeline import Compilation
from generator.plan import MANIFEST, digest, make_plan, read_tree
from generator.writer import WriteError, locked, write

PLAN_FORMAT = "psot-plan"


def _say(fmt: str):
    return (lambda line: None) if fmt == "json" else click.echo


# Terraform's words, which the users of a plan-then-apply tool already know.
QUESTION = ("Do you want to perform these actions?\n"
            "  psot will run the commands shown above.\n"
            "  Only 'yes' will be accepted to approve.\n")


def _needs_approval_refused(kind: str, yes: bool, dry_run: bool, fmt: str) -> int | None:
    """Refuse up front, before any command runs (even a read-only query), when no one can be asked.

    Asking needs a person at a terminal; JSON output is for programs, which say --yes.
    """
    if yes or dry_run or (fmt == "text" and sys.stdin.isatty()):
        return None
    why = "--format json" if fmt == "json" else "there is no terminal to ask on"
    message = (f"{kind} asks for confirmation and {why}: pass --yes (or --auto-approve) to {kind} without "
               f"asking, or --dry-run to see the commands")
    if fmt == "json":
        click.echo(json.dumps({"status": "refused", "kind": kind, "reason": message}, indent=2))
    else:
        click.echo(f"psot: {message}; nothing was run.", err=True)
    return EXIT_ERRORS


def _approved(kind: str) -> bool:
    """Ask at the terminal; only the exact answer 'yes' approves."""
    click.echo("\n" + QUESTION)
    try:
        answer = click.prompt("  Enter a value", default="", show_default=False, prompt_suffix=": ")
    except click.exceptions.Abort:
        answer = ""
    if answer == "yes":
        click.echo("")
        return True
    click.echo(f"\n{kind.capitalize()} cancelled: nothing was run.", err=True)
    return False


def _infra_digests(path: Path) -> dict[str, str]:
    """SHA-256 of every input file: infra.yml, or every file of an infra/ directory."""
    if path.is_dir():
        return {str(p.relative_to(path)): digest(p.read_bytes())
                for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink()}
    return {path.name: digest(path.read_bytes())} if path.is_file() else {}


def _generated_digest(output_dir: Path) -> str:
    tree = read_tree(output_dir)
    manifest = output_dir / MANIFEST
    if manifest.is_file():
        tree = dict(tree) | {MANIFEST: manifest.read_bytes()}
    return tree_digest(tree)


def _context(result: Compilation, source_root: Path, clean_orphans: bool) -> tg.Context:
    root = result.source.resolve().parent
    return tg.Context(result.infra.data, root, source_root, clean_orphans, query_with(run_step, root))


def _unit_dict(unit: tg.Unit) -> dict[str, Any]:
    return {"target": unit.target, "action": unit.action, "files": list(unit.files),
            "commands": [s.display() for s in unit.steps if not s.manual],
            "by_hand": [s.display() for s in unit.steps if s.manual] + ([unit.note] if unit.note.startswith(
                "by hand") else []),
            "note": unit.note, "blocked": unit.blocked}


def _show_units(units: list[tg.Unit], say) -> None:
    for unit in units:
        say(colour.plan(f"{MARKS[unit.action]} {unit.label}"))
        for step in unit.steps:
            say(f"    {'by hand: ' if step.manual else '$ '}{step.display()}")
        if not unit.steps and not unit.note:
            say("    (no command: recorded only)")
        if unit.blocked:
            say(f"    not applied: {unit.blocked}")
        if unit.note:
            say(f"    note: {unit.note}")


def _stale(result: Compilation, fmt: str) -> int | None:
    """Refuse to apply a generated/ that is not what infra.yml compiles to."""
    the_plan = make_plan(result.tree, result.output_dir)
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
    if fmt == "json":
        click.echo(json.dumps({"status": "refused", "reason": message, "changes": the_plan.to_dict()["changes"]},
                              indent=2))
    else:
        click.echo(colour.plan(the_plan.to_text()), nl=False, err=True)
        click.echo(f"psot: {message}.", err=True)
    return EXIT_ERRORS


def _report(outcome: Outcome, units: list[tg.Unit], state: State, kind: str, fmt: str) -> int:
    record = state.read_record() or {}
    if fmt == "json":
        click.echo(json.dumps({"status": record.get("status"), "kind": kind,
                               "units": record.get("units", []),
                               "record": str(state.record_path)}, indent=2))
    else:
        verb = kind.capitalize()
        if outcome.ok:
            line = f"{verb} complete: {len(outcome.applied)} applied"
            if outcome.blocked:
                line = f"{verb} incomplete: {len(outcome.applied)} applied, {len(outcome.blocked)} need you first"
            click.echo(line + ".")
        else:
            click.echo(f"{verb} failed at {outcome.failed.label}: {len(outcome.applied)} applied, "
                       f"1 failed, {len(outcome.not_run)} not run. Fix the cause and run `psot {kind}` again: "
                       f"it resumes from there. Record: {state.record_path}", err=True)
            for unit in outcome.not_run:
                click.echo(f"  not applied: {unit.label}", err=True)
    return EXIT_OK if outcome.ok else EXIT_ERRORS


def _run(units: list[tg.Unit], result: Compilation, state: State, *, kind: str, desired: dict[str, bytes],
         dry_run: bool, fmt: str, notes: list[str], previous_after: dict[str, bytes] | None = None,
         yes: bool = True) -> int:
    say = _say(fmt)
    for note in notes:
        say(f"note: {note}")
    if not units:
        if fmt == "json":
            click.echo(json.dumps({"status": "nothing", "kind": kind, "units": []}, indent=2))
        else:
            click.echo(f"Nothing to {kind}: the machines have what {'generated/' if kind == 'apply' else 'the previous apply'} says.")
        return EXIT_OK
    if dry_run:
        if fmt == "json":
            click.echo(json.dumps({"status": "dry-run", "kind": kind, "units": [_unit_dict(u) for u in units]},
                                  indent=2))
        else:
            _show_units(units, click.echo)
            click.echo(f"Dry run: {len(units)} to {kind}; nothing was run.")
        return EXIT_OK
    missing = missing_tools(units)
    if missing:
        for tool, files in sorted(missing.items()):
            click.echo(f"psot: `{tool}` is not on PATH; it is needed for {', '.join(files)}. Install it, or leave "
                       "that platform out with --target; nothing was applied.", err=True)
        return EXIT_TOOL
    if not yes:
        _show_units(units, click.echo)
        if not _approved(kind):
            return EXIT_ERRORS
    last = state.read_record() or {}
    if previous_after is None and last.get("status") not in ("failed", "running"):
        # A new apply: remember what was applied before it, for rollback. (Resuming a failed apply keeps the
        # state from before that apply.)
        state.snapshot_previous()
    outcome = execute(units, state, result.source.resolve().parent, kind=kind, tree_digest=tree_digest(desired),
                      echo=say)
    if outcome.ok and previous_after is not None:
        state.snapshot_previous(previous_after)
    return _report(outcome, units, state, kind, fmt)


def _status(result: Compilation, targets: tuple[str, ...], fmt: str) -> int:
    state = State(result.output_dir)
    desired = read_tree(result.output_dir)
    applied = state.applied()
    pending = [(a, p) for a, p in tg.pending(desired, applied) if not targets or tg.target_of(p) in targets]
    up_to_date = not make_plan(result.tree, result.output_dir).changes
    record = state.read_record()
    if fmt == "json":
        click.echo(json.dumps({
            "applied": sorted(p for p in applied if not targets or tg.target_of(p) in targets),
            "pending": [{"path": p, "action": a, "target": tg.target_of(p)} for a, p in pending],
            "generated_up_to_date": up_to_date,
            "last_apply": record}, indent=2))
        return EXIT_CHANGES if pending else EXIT_OK
    where = f"{result.output_dir.name}/"
    if record is None:
        click.echo("Never applied.")
    else:
        units = record.get("units", [])
        counts = {s: sum(1 for u in units if u.get("status") == s) for s in ("applied", "failed", "not run",
                                                                              "blocked")}
        click.echo(f"Last {record.get('kind', 'apply')}: {record.get('status')} ({record.get('finished') or record.get('started')}): "
                   + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
        for unit in units:
            if unit.get("status") == "failed":
                failed = unit["commands"][-1] if unit.get("commands") else {}
                click.echo(f"  failed: {', '.join(unit['files'])}: $ {failed.get('command', '?')}")
                for line in str(failed.get("stderr", "")).splitlines()[-5:]:
                    click.echo(f"    ! {line}")
    click.echo(f"{len([p for p in applied if not targets or tg.target_of(p) in targets])} file(s) applied.")
    if pending:
        click.echo(f"Pending ({where} differs from what was applied):")
        for action, path in pending:
            click.echo(f"  {MARKS[action]} {path}")
        click.echo("Run `psot apply` (make apply-infra) to apply them.")
    else:
        click.echo(f"Nothing pending: the machines have what {where} says.")
    if not up_to_date:
        click.echo(f"{where} is not up to date with {result.source.name}: run `psot sync` first.")
    return EXIT_CHANGES if pending else EXIT_OK


yes_option = click.option("--yes", "--auto-approve", "yes", is_flag=True,
                          help="Do not ask for confirmation (needed without a terminal and with --format json).")

target_option = click.option("--target", "targets", multiple=True, type=click.Choice(tg.TARGETS),
                             help="Apply only this platform (repeatable).")


@click.command()
@click.argument("source", required=False, type=click.Path(path_type=Path))
@target_option
@click.option("--dry-run", is_flag=True, help="Print the exact commands; run nothing.")
@click.option("--clean-orphans", is_flag=True, help="Also remove from the machines what psot no longer generates.")
@click.option("--status", is_flag=True, help="What is applied, what is pending (exit 2 when something is).")
@yes_option
@format_option
@output_option
def apply(source: Path | None, targets: tuple[str, ...], dry_run: bool, clean_orphans: bool, status: bool,
          yes: bool, fmt: str, output_dir: Path | None) -> int:
    """Apply what changed in generated/ since the last apply, with each platform's CLI.

    SOURCE is infra.yml (or infra/), or a plan saved by `psot plan --out FILE`.
    """
    if source is not None and source.is_file() and source.suffix == ".json":
        return _apply_saved(source, dry_run, fmt)
    result = _compile(source, output_dir=output_dir)
    if not result.ok:
        return _fail(result, fmt)
    if status:
        return _status(result, targets, fmt)
    refused = _stale(result, fmt)
    if refused is None:
        refused = _needs_approval_refused("apply", yes, dry_run, fmt)
    if refused is not None:
        return refused
    if fmt != "json":
        _print_findings(result)
    try:
        with locked(result.output_dir):
            state = State(result.output_dir)
            desired = read_tree(result.output_dir)
            ctx = _context(result, result.output_dir, clean_orphans)
            units = tg.units(desired, state.applied(), ctx, targets)
            return _run(units, result, state, kind="apply", desired=desired, dry_run=dry_run, fmt=fmt,
                        notes=ctx.notes, yes=yes)
    except WriteError as exc:
        click.echo(f"psot: {exc}", err=True)
        return EXIT_TOOL


@click.command()
@click.argument("infra", required=False, type=click.Path(path_type=Path))
@target_option
@click.option("--dry-run", is_flag=True, help="Print the exact commands; run nothing.")
@click.option("--clean-orphans", is_flag=True, help="Also remove what the rolled-back apply added.")
@yes_option
@format_option
@output_option
def rollback(infra: Path | None, targets: tuple[str, ...], dry_run: bool, clean_orphans: bool, yes: bool,
             fmt: str, output_dir: Path | None) -> int:
    """Re-apply the tree that was applied before the last apply."""
    result = _compile(infra, output_dir=output_dir, until="place")
    if result.infra is None:
        return _fail(result, fmt)
    refused = _needs_approval_refused("rollback", yes, dry_run, fmt)
    if refused is not None:
        return refused
    try:
        with locked(result.output_dir):
            state = State(result.output_dir)
            previous = state.previous()
            if previous is None:
                click.echo("psot: nothing to roll back to: no apply has changed anything yet.", err=True)
                return EXIT_ERRORS
            applied = state.applied()
            ctx = _context(result, state.previous_dir, clean_orphans)
            units = tg.units(previous, applied, ctx, targets)
            code = _run(units, result, state, kind="rollback", desired=previous, dry_run=dry_run, fmt=fmt,
                        notes=ctx.notes, previous_after=applied, yes=yes)
            if code == EXIT_OK and units and not dry_run and fmt != "json":
                click.echo(f"{result.output_dir.name}/ still holds the newer files: revert the change in "
                           f"{result.source.name} and run `make sync`, or `psot apply` to go forward again.")
            return code
    except WriteError as exc:
        click.echo(f"psot: {exc}", err=True)
        return EXIT_TOOL


# --- saved plans ----------------------------------------------------------------------------------

def save_plan(result: Compilation, out: Path) -> None:
    """`psot plan --out FILE`: the plan, the commands it implies, and what it was made from."""
    the_plan = make_plan(result.tree, result.output_dir)
    state = State(result.output_dir)
    ctx = _context(result, result.output_dir, False)
    units = tg.units(result.tree, state.applied(), ctx)
    body = {
        "format": PLAN_FORMAT, "version": 1, "psot": __version__,
        "infra": str(result.source.resolve()),
        "inputs": _infra_digests(result.source),
        "output_dir": str(result.output_dir.resolve()),
        "generated": _generated_digest(result.output_dir),
        "applied": state.digest(),
        "tree": tree_digest(result.tree),
        "changes": the_plan.to_dict()["changes"],
        "apply": [_unit_dict(u) for u in units],
    }
    out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def _refuse(message: str, fmt: str) -> int:
    if fmt == "json":
        click.echo(json.dumps({"status": "refused", "reason": message}, indent=2))
    else:
        click.echo(f"psot: {message}; nothing was applied.", err=True)
    return EXIT_ERRORS


def _apply_saved(path: Path, dry_run: bool, fmt: str) -> int:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return _refuse(f"{path} is not a plan saved by `psot plan --out` ({exc})", fmt)
    if not isinstance(saved, dict) or saved.get("format") != PLAN_FORMAT:
        return _refuse(f"{path} is not a plan saved by `psot plan --out`", fmt)
    infra = Path(str(saved.get("infra", "")))
    output_dir = Path(str(saved.get("output_dir", "")))
    again = "make a new one with `psot plan --out " + path.name + "` and review it"
    changed = sorted(set(saved.get("inputs", {}).items()) ^ set(_infra_digests(infra).items()))
    if changed:
        names = sorted({name for name, _ in changed})
        return _refuse(f"{', '.join(names)} changed since the plan was saved: {again}", fmt)
    if _generated_digest(output_dir) != saved.get("generated"):
        return _refuse(f"{output_dir.name}/ changed since the plan was saved: {again}", fmt)
    state = State(output_dir)
    if state.digest() != saved.get("applied"):
        return _refuse(f"the applied state changed since the plan was saved (another apply or rollback ran): "
                       f"{again}", fmt)
    result = _compile(infra, output_dir=output_dir)
    if not result.ok:
        return _fail(result, fmt)
    if tree_digest(result.tree) != saved.get("tree"):
        return _refuse(f"{infra.name} compiles to another tree than when the plan was saved (another psot "
                       f"version?): {again}", fmt)
    the_plan = make_plan(result.tree, output_dir)
    touched = {c.path for c in the_plan.changes}
    if any(d.path in touched for d in the_plan.drift):
        return _refuse(f"{output_dir.name}/ has files edited by hand that the plan rewrites; run `psot plan` to "
                       "see them", fmt)
    if dry_run:
        if fmt == "json":
            click.echo(json.dumps({"status": "dry-run", "changes": saved.get("changes"), "units": saved.get("apply")},
                                  indent=2))
        else:
            click.echo(colour.plan(the_plan.to_text()), nl=False)
            for unit in saved.get("apply", []):
                click.echo(f"{MARKS.get(unit.get('action'), '~')} {', '.join(unit.get('files', []))}")
                for command in unit.get("commands", []):
                    click.echo(f"    $ {command}")
            click.echo("Dry run: nothing was written or run.")
        return EXIT_OK
    try:
        if the_plan.changes:
            write(the_plan, result.tree)
            if fmt != "json":
                click.echo(f"Wrote {output_dir.name}/: {len(the_plan.changes)} file(s) changed.")
        with locked(output_dir):
            desired = read_tree(output_dir)
            if tree_digest(desired) != tree_digest(result.tree):
                return _refuse(f"{output_dir.name}/ changed while the plan was being applied", fmt)
            ctx = _context(result, output_dir, False)
            units = tg.units(desired, state.applied(), ctx)
            if [_unit_dict(u) for u in units] != saved.get("apply"):
                return _refuse("the machines changed since the plan was saved (what exists there is not what it "
                               f"was): {again}", fmt)
            return _run(units, result, state, kind="apply", desired=desired, dry_run=False, fmt=fmt,
                        notes=ctx.notes)
    except WriteError as exc:
        click.echo(f"psot: {exc}", err=True)
        return EXIT_TOOL
