"""`psot apply`, `psot apply --status`, `psot apply plan.json` and `psot rollback`: the commands.

They parse their options, ask for the confirmation at the terminal, call apply/service.py (or
apply/saved_plan.py) and print its outcome (cli/apply_views.py). Registered on the main command group by
generator/cli/main.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from generator.apply import saved_plan, service
from generator.apply import units as tg
from generator.cli import apply_views as views
from generator.cli.common import EXIT_ERRORS, compile_at, fail, format_option, output_option, print_findings

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


def refused_before_running(kind: str, yes: bool, dry_run: bool, fmt: str) -> int | None:
    """The exit status when `kind` must not start (no one to ask for confirmation, a bad command timeout), or None."""
    refused = _needs_approval_refused(kind, yes, dry_run, fmt)
    if refused is not None:
        return refused
    bad_timeout = service.timeout_refusal()
    return views.failed(bad_timeout, fmt) if bad_timeout is not None else None


def _confirm(kind: str, units: list[tg.Unit]) -> bool:
    """Show the units, then ask at the terminal; only the exact answer 'yes' approves."""
    views.show_units(units, click.echo)
    click.echo("\n" + QUESTION)
    try:
        answer = click.prompt("  Enter a value", default="", show_default=False, prompt_suffix=": ")
    except click.exceptions.Abort:
        answer = ""
    if answer == "yes":
        click.echo("")
        return True
    return False


def run_with(dry_run: bool, yes: bool, fmt: str) -> service.Run:
    """How the units run: asked first unless --yes, what runs shown to people (not in JSON)."""
    return service.Run(dry_run=dry_run, confirm=None if yes else _confirm,
                       progress=(lambda line: None) if fmt == "json" else click.echo)


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
        return views.outcome(saved_plan.apply_saved(source, run_with(dry_run, True, fmt)), None, fmt)
    result = compile_at(source, output_dir=output_dir)
    if not result.ok:
        return fail(result, fmt)
    if status:
        return views.status(service.status(result, targets), result, fmt)
    stale = service.stale(result)
    if stale is not None:
        return views.refused(stale, fmt)
    refused = refused_before_running("apply", yes, dry_run, fmt)
    if refused is not None:
        return refused
    if fmt != "json":
        print_findings(result)
    return views.outcome(service.apply(result, targets, clean_orphans, run_with(dry_run, yes, fmt)), result, fmt)


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
    refused = refused_before_running("rollback", yes, dry_run, fmt)
    if refused is not None:
        return refused
    return views.outcome(service.rollback(result, targets, clean_orphans, run_with(dry_run, yes, fmt)), result, fmt)
