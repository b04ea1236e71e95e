"""`psot apply`, `psot apply --status`, `psot apply plan.json`, `psot rollback`, and `plan --out`.

Registered on the main command group by generator/cli/main.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from generator import __version__
from generator.apply import units as tg
from generator.apply.engine import (
    MARKS,
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
from generator.cli import colour
from generator.cli.common import (
    EXIT_CHANGES,
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_TOOL,
    compile_at,
    fail,
    format_option,
    output_option,
    print_findings,
)
from generator.diagnostics.findings import one_line
from generator.env_settings import SettingError, seconds
from generator.pipeline import Compilation
from generator.plan.changes import MANIFEST, Plan, digest, make_plan, read_tree
from generator.resources import data_dir
from generator.workspace.writer import WriteError, locked, write

PLAN_FORMAT = "psot-plan"
PLAN_VERSION = 2              # 2: with `commands`, the programs apply will use
PLAN_SCHEMA = "plan.schema.json"
LISTED = 5                    # files named in a refusal, then how many more


def _say(fmt: str):
    return (lambda line: None) if fmt == "json" else click.echo


# Terraform's words, which the users of a plan-then-apply tool already know.
QUESTION = ("Do you want to perform these actions?\n"
            "  psot will run the commands shown above.\n"
            "  Only 'yes' will be accepted to approve.\n")


def _error(message: str, fmt: str, code: int = EXIT_TOOL, **extra: Any) -> int:
    """psot could not do its part (I/O, its own state, a setting): `psot: message`, or JSON."""
    if fmt == "json":
        click.echo(json.dumps({"status": "error", "reason": message} | extra, indent=2))
    else:
        click.echo(f"psot: {message}", err=True)
    return code


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}; nothing more was run"


def _timeout_refused(fmt: str) -> int | None:
    """A bad PSOT_APPLY_TIMEOUT, refused before anything runs (exit 3)."""
    try:
        seconds(STEP_TIMEOUT_ENV, STEP_TIMEOUT_DEFAULT_S)
    except SettingError as exc:
        return _error(f"{exc}; nothing was applied", fmt)
    return None


def _files(paths: list[str], where: str) -> str:
    named = ", ".join(f"{where}{p}" for p in paths[:LISTED])
    return named + (f" and {len(paths) - LISTED} more" if len(paths) > LISTED else "")


def _not_psots_bytes(result: Compilation, skip: frozenset[str] = frozenset()) -> list[str]:
    """Files psot renders whose bytes in the output directory are not the ones it just rendered."""
    on_disk = read_tree(result.output_dir)
    return [p for p, content in sorted(result.need_tree().items()) if p not in skip and on_disk.get(p) != content]


def _bytes_refused(result: Compilation, fmt: str, skip: frozenset[str] = frozenset()) -> int | None:
    """Refuse when a file on disk is not, byte for byte, what psot renders: apply sends only psot's own bytes.

    (A hand edit can read as the same YAML data to psot and as something else to a platform's own reader.)
    """
    differ = _not_psots_bytes(result, skip)
    if not differ:
        return None
    where = f"{result.output_dir.name}/"
    message = (f"{_files(differ, where)} {'is' if len(differ) == 1 else 'are'} not byte for byte what psot renders "
               f"from {result.source.name} (edited by hand?), and apply sends only the bytes psot renders: see the "
               f"edit with `psot plan`, move it into {result.source.name} or drop it with `psot sync --force`, then "
               "apply; nothing was applied")
    if fmt == "json":
        click.echo(json.dumps({"status": "refused", "reason": message, "files": differ}, indent=2))
    else:
        click.echo(f"psot: {message}.", err=True)
    return EXIT_ERRORS


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


def programs(result: Compilation) -> list[tg.Program]:
    """The programs `psot apply` will use for this compilation, and where (the plan shows them)."""
    return tg.programs(result.need_tree(), result.need_infra().data)


def _context(result: Compilation, source_root: Path, clean_orphans: bool) -> tg.Context:
    root = result.source.resolve().parent
    return tg.Context(result.need_infra().data, root, source_root, clean_orphans, query_with(run_step, root))


def _unit_dict(unit: tg.Unit) -> dict[str, Any]:
    return {"target": unit.target, "action": unit.action, "files": list(unit.files),
            "commands": [s.display() for s in unit.steps if not s.manual],
            "by_hand": [s.display() for s in unit.steps if s.manual] + ([unit.note] if unit.note.startswith(
                "by hand") else []),
            "note": unit.note, "blocked": unit.blocked}


def _show_units(units: list[tg.Unit], say) -> None:
    for unit in units:
        say(colour.plan(f"{MARKS[unit.action]} {one_line(unit.label)}"))
        for step in unit.steps:
            say(f"    {'by hand: ' if step.manual else '$ '}{step.display()}")
        if not unit.steps and not unit.note:
            say("    (no command: recorded only)")
        if unit.blocked:
            say(f"    not applied: {one_line(unit.blocked)}")
        if unit.note:
            say(f"    note: {one_line(unit.note)}")


def _stale(result: Compilation, fmt: str) -> int | None:
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
        if outcome.failed is None:   # outcome.ok, in a form mypy narrows
            line = f"{verb} complete: {len(outcome.applied)} applied"
            if outcome.blocked:
                line = f"{verb} incomplete: {len(outcome.applied)} applied, {len(outcome.blocked)} need you first"
            click.echo(line + ".")
        else:
            click.echo(f"{verb} failed at {one_line(outcome.failed.label)}: {len(outcome.applied)} applied, "
                       f"1 failed, {len(outcome.not_run)} not run. Fix the cause and run `psot {kind}` again: "
                       f"it resumes from there. Record: {state.record_path}", err=True)
            for unit in outcome.not_run:
                click.echo(f"  not applied: {one_line(unit.label)}", err=True)
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
            what = "generated/" if kind == "apply" else "the previous apply"
            click.echo(f"Nothing to {kind}: the machines have what {what} says.")
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
        messages = [f"`{tool}` is not on PATH; it is needed for {', '.join(files)}. Install it, or leave that "
                    "platform out with --target; nothing was applied." for tool, files in sorted(missing.items())]
        if fmt == "json":
            click.echo(json.dumps({"status": "error", "kind": kind, "reason": " ".join(messages),
                                   "missing": dict(sorted(missing.items()))}, indent=2))
        else:
            for message in messages:
                click.echo(f"psot: {message}", err=True)
        return EXIT_TOOL
    if not yes:
        _show_units(units, click.echo)
        if not _approved(kind):
            return EXIT_ERRORS
    last = state.read_record() or {}
    try:
        if previous_after is None and last.get("status") not in ("failed", "running"):
            # A new apply: remember what was applied before it, for rollback. (Resuming a failed apply keeps the
            # state from before that apply.)
            state.snapshot_previous()
    except OSError as exc:
        return _error(f"could not keep the applied state for rollback in {state.previous_dir} "
                      f"({exc.strerror or exc}); nothing was applied", fmt, kind=kind)
    try:
        outcome = execute(units, state, result.source.resolve().parent, kind=kind, tree_digest=tree_digest(desired),
                          echo=lambda line: say(one_line(line)))  # names from files reach the terminal
        if outcome.ok and previous_after is not None:
            state.snapshot_previous(previous_after)
    except StateError as exc:
        return _error(f"{kind} stopped: {exc}", fmt, kind=kind, record=str(state.record_path))
    except OSError as exc:
        return _error(f"{kind} complete, but {state.previous_dir} could not be updated ({exc.strerror or exc}): "
                      f"a second rollback would not go forward again", fmt, kind=kind)
    return _report(outcome, units, state, kind, fmt)


def _status(result: Compilation, targets: tuple[str, ...], fmt: str) -> int:
    state = State(result.output_dir)
    desired = read_tree(result.output_dir)
    applied = state.applied()
    pending = [(a, p) for a, p in tg.pending(desired, applied) if not targets or tg.target_of(p) in targets]
    up_to_date = not make_plan(result.need_tree(), result.output_dir).changes
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
    result = compile_at(source, output_dir=output_dir)
    if not result.ok:
        return fail(result, fmt)
    if status:
        return _status(result, targets, fmt)
    refused = _stale(result, fmt)
    if refused is None:
        refused = _needs_approval_refused("apply", yes, dry_run, fmt)
    if refused is None:
        refused = _timeout_refused(fmt)
    if refused is not None:
        return refused
    if fmt != "json":
        print_findings(result)
    try:
        with locked(result.output_dir):
            # Under the lock, so no sync swaps the tree between this check and the commands.
            refused = _bytes_refused(result, fmt)
            if refused is not None:
                return refused
            state = State(result.output_dir)
            # What is sent is what psot rendered just now, never bytes read back from disk.
            desired = dict(result.need_tree())
            ctx = _context(result, result.output_dir, clean_orphans)
            units = tg.units(desired, state.applied(), ctx, targets)
            return _run(units, result, state, kind="apply", desired=desired, dry_run=dry_run, fmt=fmt,
                        notes=ctx.notes, yes=yes)
    except WriteError as exc:
        return _error(str(exc), fmt)
    except OSError as exc:
        return _error(_os_error(exc), fmt)


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
    result = compile_at(infra, output_dir=output_dir, until="place")
    if result.infra is None:
        return fail(result, fmt)
    refused = _needs_approval_refused("rollback", yes, dry_run, fmt)
    if refused is None:
        refused = _timeout_refused(fmt)
    if refused is not None:
        return refused
    try:
        with locked(result.output_dir):
            state = State(result.output_dir)
            # Read once: these bytes are what is sent (a command that reads a file itself finds it checked
            # against them just before it runs).
            previous = state.previous()
            if previous is None:
                return _refuse_plain("nothing to roll back to: no apply has changed anything yet.", fmt)
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
        return _error(str(exc), fmt)
    except OSError as exc:
        return _error(_os_error(exc), fmt)


# --- saved plans ----------------------------------------------------------------------------------

def save_plan(result: Compilation, out: Path) -> None:
    """`psot plan --out FILE`: the plan, the commands it implies, and what it was made from."""
    the_plan = make_plan(result.need_tree(), result.output_dir)
    state = State(result.output_dir)
    ctx = _context(result, result.output_dir, False)
    units = tg.units(result.need_tree(), state.applied(), ctx)
    body = {
        "format": PLAN_FORMAT, "version": PLAN_VERSION, "psot": __version__,
        "infra": str(result.source.resolve()),
        "inputs": _infra_digests(result.source),
        "output_dir": str(result.output_dir.resolve()),
        "generated": _generated_digest(result.output_dir),
        "applied": state.digest(),
        "tree": tree_digest(result.need_tree()),
        "changes": the_plan.to_dict()["changes"],
        "commands": [p.to_dict() for p in programs(result)],
        "apply": [_unit_dict(u) for u in units],
    }
    out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def _refuse_plain(message: str, fmt: str) -> int:
    """A refusal whose message says it all (exit 1)."""
    if fmt == "json":
        click.echo(json.dumps({"status": "refused", "reason": message}, indent=2))
    else:
        click.echo(f"psot: {message}", err=True)
    return EXIT_ERRORS


def _refuse(message: str, fmt: str) -> int:
    if fmt == "json":
        click.echo(json.dumps({"status": "refused", "reason": message}, indent=2))
    else:
        click.echo(f"psot: {message}; nothing was applied.", err=True)
    return EXIT_ERRORS


def _field(path) -> str:
    """`apply[0].commands` from a JSON path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
               float: "a number", type(None): "null"}


def _plan_problem(saved: dict) -> str | None:
    """The first field of a saved plan that is not as `psot plan --out` writes it, or None."""
    from jsonschema import Draft202012Validator
    schema = json.loads((data_dir("schemas") / PLAN_SCHEMA).read_text(encoding="utf-8"))
    errors = sorted(Draft202012Validator(schema).iter_errors(saved),
                    key=lambda e: ([str(p) for p in e.absolute_path], e.validator))
    if not errors:
        return None
    error = errors[0]
    field = _field(error.absolute_path)
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        return f"`{_field([*error.absolute_path, missing])}` is missing"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"`{_field([*error.absolute_path, extra[0]])}` is not a field of a saved plan"
    if error.validator == "type":
        value = error.validator_value
        wanted: list[str] = value if isinstance(value, list) else [value]
        words = {"object": "an object", "array": "a list", "string": "a string", "null": "null",
                 "integer": "an integer", "number": "a number", "boolean": "a boolean"}
        return (f"`{field}` must be {' or '.join(words.get(w, w) for w in wanted)}, not "
                f"{_JSON_TYPES.get(type(error.instance), 'that')}")
    if error.validator == "pattern":
        return f"`{field}` must be a SHA-256 (64 hex digits)"
    if error.validator == "enum":
        return f"`{field}` must be one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "const":
        return f"`{field}` must be {json.dumps(error.validator_value)}"
    if error.validator == "minLength":
        return f"`{field}` must not be empty"
    return f"`{field}`: {error.message}"


def _units_difference(saved: list[dict], derived: list[dict]) -> str:
    """Where the saved commands and the ones apply derives now first part."""
    for was, now in zip(saved, derived):
        if was != now:
            files = ", ".join(now["files"])
            extra = [c for c in was["commands"] if c not in now["commands"]]
            if extra:
                return f"for {files} the plan has `{extra[0]}`, which apply does not derive"
            return (f"for {files} apply derives {json.dumps(now['commands'])}, the plan has "
                    f"{json.dumps(was['commands'])}")
    if len(saved) > len(derived):
        return f"the plan has {len(saved) - len(derived)} more unit(s) than apply derives"
    return f"apply derives {len(derived) - len(saved)} more unit(s) than the plan has"


def _saved_refusal(saved: dict, path: Path, result: Compilation, units: list[tg.Unit], the_plan: Plan) -> str | None:
    """Why the plan apply derives now is not the saved one, or None when it is."""
    again = "make a new one with `psot plan --out " + path.name + "` and review it"
    if the_plan.to_dict()["changes"] != saved["changes"]:
        return f"the file changes in {path.name} are not the plan's (the file was edited?): {again}"
    if [p.to_dict() for p in programs(result)] != saved["commands"]:
        return f"the programs apply would use are not the ones in {path.name} (the file was edited?): {again}"
    derived = [_unit_dict(u) for u in units]
    if derived != saved["apply"]:
        return (f"the commands apply derives now are not the ones in {path.name} (the machines changed since it "
                f"was saved, or the file was edited): {_units_difference(saved['apply'], derived)}; {again}")
    return None


def _apply_saved(path: Path, dry_run: bool, fmt: str) -> int:
    """Check a saved plan exactly as a real run does, re-derive its commands and run those, never the file's.

    With --dry-run every check is made and the re-derived commands are printed; nothing is written or run.
    """
    refused = _timeout_refused(fmt)
    if refused is not None:
        return refused
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return _refuse(f"{path} is not a plan saved by `psot plan --out` ({exc})", fmt)
    if not isinstance(saved, dict) or saved.get("format") != PLAN_FORMAT:
        return _refuse(f"{path} is not a plan saved by `psot plan --out`", fmt)
    again = "make a new one with `psot plan --out " + path.name + "` and review it"
    if saved.get("version") != PLAN_VERSION:
        return _refuse(f"{path} was saved in another plan format (version {json.dumps(saved.get('version'))}, this "
                       f"psot reads {PLAN_VERSION}): {again}", fmt)
    problem = _plan_problem(saved)
    if problem is not None:
        return _refuse(f"{path} is not a plan as `psot plan --out` saves it: {problem}", fmt)
    infra = Path(saved["infra"])
    output_dir = Path(saved["output_dir"])
    try:
        inputs = _infra_digests(infra)
        changed = sorted(set(saved["inputs"].items()) ^ set(inputs.items()))
        if changed:
            names = sorted({name for name, _ in changed})
            return _refuse(f"{', '.join(names)} changed since the plan was saved: {again}", fmt)
        if _generated_digest(output_dir) != saved["generated"]:
            return _refuse(f"{output_dir.name}/ changed since the plan was saved: {again}", fmt)
        state = State(output_dir)
        if state.digest() != saved["applied"]:
            return _refuse(f"the applied state changed since the plan was saved (another apply or rollback ran): "
                           f"{again}", fmt)
        result = compile_at(infra, output_dir=output_dir)
        if not result.ok:
            return fail(result, fmt)
        if tree_digest(result.need_tree()) != saved["tree"]:
            return _refuse(f"{infra.name} compiles to another tree than when the plan was saved (another psot "
                           f"version?): {again}", fmt)
        the_plan = make_plan(result.need_tree(), output_dir)
        touched = frozenset(c.path for c in the_plan.changes)
        if any(d.path in touched for d in the_plan.drift):
            return _refuse(f"{output_dir.name}/ has files edited by hand that the plan rewrites; run `psot plan` to "
                           "see them", fmt)
        # What the plan does not rewrite must already be psot's bytes, as for `psot apply`.
        refused = _bytes_refused(result, fmt, skip=touched)
        if refused is not None:
            return refused
        ctx = _context(result, output_dir, False)
        units = tg.units(result.need_tree(), state.applied(), ctx)
        why = _saved_refusal(saved, path, result, units, the_plan)
        if why is not None:
            return _refuse(why, fmt)
        if dry_run:
            if fmt == "json":
                click.echo(json.dumps({"status": "dry-run", "changes": the_plan.to_dict()["changes"],
                                       "commands": [p.to_dict() for p in programs(result)],
                                       "units": [_unit_dict(u) for u in units]}, indent=2))
            else:
                click.echo(colour.plan(the_plan.to_text()), nl=False)
                _show_units(units, click.echo)
                click.echo(f"Dry run: {path.name} checks out ({len(units)} to apply, as it says); nothing was "
                           "written or run.")
            return EXIT_OK
        if the_plan.changes:
            write(the_plan, result.need_tree())
            if fmt != "json":
                click.echo(f"Wrote {output_dir.name}/: {len(the_plan.changes)} file(s) changed.")
        with locked(output_dir):
            if state.digest() != saved["applied"]:
                return _refuse(f"the applied state changed while the plan was being applied: {again}", fmt)
            refused = _bytes_refused(result, fmt)
            if refused is not None:
                return refused
            ctx = _context(result, output_dir, False)
            units = tg.units(result.need_tree(), state.applied(), ctx)
            why = _saved_refusal(saved, path, result, units, the_plan)
            if why is not None:
                return _refuse(why, fmt)
            return _run(units, result, state, kind="apply", desired=dict(result.need_tree()), dry_run=False, fmt=fmt,
                        notes=ctx.notes)
    except WriteError as exc:
        return _error(str(exc), fmt)
    except OSError as exc:
        return _error(_os_error(exc), fmt)
