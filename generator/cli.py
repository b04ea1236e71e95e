"""`psot`: validate, place, plan and sync (SPEC §6).

Exit codes: 0 success, 1 errors in the input, 2 `plan` found changes,
3 psot itself could not run (I/O, an internal error). Text output is for
people; `--format json` for machines. Findings go to stderr in text mode
(stdout carries the plan or table), except for `validate`, whose output
they are.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

import click

from generator import __version__
from generator.findings import render_json, render_text, summary_line
from generator.loader import default_infra_path
from generator.pipeline import Compilation, compile_infra
from generator.placement import STRATEGIES, STRATEGIES_PLANNED, Placement, fmt_gb
from generator.plan import make_plan
from generator.writer import WriteError, write

EXIT_OK, EXIT_ERRORS, EXIT_CHANGES, EXIT_TOOL = 0, 1, 2, 3

infra_argument = click.argument("infra", required=False, type=click.Path(path_type=Path))
format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="Output for people (text) or machines (json).")
output_option = click.option("--output-dir", "-o", type=click.Path(path_type=Path), default=None,
                             help="Where the generated tree lives (default: generated/ beside infra.yml).")


def _compile(infra: Path | None, **kwargs) -> Compilation:
    return compile_infra(infra if infra is not None else default_infra_path(), **kwargs)


def _print_findings(result: Compilation, stream=None) -> None:
    findings = result.diag.findings
    if findings:
        click.echo(render_text(findings), nl=False, file=stream or sys.stderr)


def _fail(result: Compilation, fmt: str) -> int:
    """Report an input with errors (exit 1); nothing is written."""
    if fmt == "json":
        click.echo(render_json(result.diag.findings), nl=False)
    else:
        _print_findings(result)
        click.echo(f"psot: {summary_line(result.diag.findings)}; nothing was written.", err=True)
    return EXIT_ERRORS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="psot")
def cli() -> None:
    """psot compiles infra.yml into Incus, Proxmox, Compose and Kubernetes configuration."""


@cli.command()
@infra_argument
@format_option
def validate(infra: Path | None, fmt: str) -> int:
    """Report findings only. Exit 0 when there is no error, 1 otherwise."""
    result = _compile(infra, until="validate")
    findings = result.diag.findings
    if fmt == "json":
        click.echo(render_json(findings), nl=False)
    else:
        _print_findings(result, sys.stdout)
        click.echo(f"{summary_line(findings)}.", err=not result.ok)
    return EXIT_OK if result.ok else EXIT_ERRORS


def placement_table(result: Compilation) -> str:
    """Per GPU: VRAM used/total and its consumers; then per consumer: GPU, budget, fallback."""
    placement: Placement = result.placement
    infra = result.infra
    rows = [("GPU", "STATUS", "VRAM USED/TOTAL", "CONSUMERS")]
    for key, use in placement.gpus.items():
        rows.append((key, use.status, f"{fmt_gb(use.used_gb)}/{fmt_gb(use.capacity_gb)} GB",
                     ", ".join(use.consumers) or "-"))
    rows2 = [("CONSUMER", "GPU", "VRAM", "BUDGET", "FALLBACK")]
    for name, a in placement.assignments.items():
        budget = infra.consumers[name].request.budget
        budget_text = "-" if a.budget_gb is None else f"{fmt_gb(a.budget_gb)} GB ({budget.env})"
        rows2.append((name, ", ".join(a.gpus) or "(none)", f"{fmt_gb(a.vram_gb)} GB", budget_text,
                      ", ".join(a.fallback) or "-"))
    out = [f"Strategy: {placement.strategy}", "", _table(rows), "", _table(rows2)]
    if placement.unplaced:
        out += ["", "Unplaced: " + ", ".join(placement.unplaced)]
    return "\n".join(out) + "\n"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


@cli.command()
@infra_argument
@click.option("--strategy", type=click.Choice(sorted(set(STRATEGIES) | set(STRATEGIES_PLANNED))),
              help="Preview another strategy than global.placement.strategy.")
@format_option
def place(infra: Path | None, strategy: str | None, fmt: str) -> int:
    """Show which GPU every consumer gets (no file is written)."""
    result = _compile(infra, strategy=strategy, until="place")
    if not result.ok:
        return _fail(result, fmt)
    if fmt == "json":
        click.echo(json.dumps(result.placement.to_dict(), indent=2), nl=True)
    else:
        _print_findings(result)
        click.echo(placement_table(result), nl=False)
    return EXIT_OK


@cli.command()
@infra_argument
@format_option
@output_option
def plan(infra: Path | None, fmt: str, output_dir: Path | None) -> int:
    """Diff the compiled tree against generated/. Exit 0 no change, 2 changes, 1 errors."""
    result = _compile(infra, output_dir=output_dir)
    if not result.ok:
        return _fail(result, fmt)
    the_plan = make_plan(result.tree, result.output_dir)
    if fmt == "json":
        click.echo(the_plan.to_json(), nl=False)
    else:
        _print_findings(result)
        click.echo(the_plan.to_text(), nl=False)
    return EXIT_CHANGES if the_plan.changes else EXIT_OK


@cli.command()
@infra_argument
@click.option("--dry-run", is_flag=True, help="Show the plan; write nothing.")
@click.option("--clean-orphans", is_flag=True, help="Delete files psot generated earlier that are no longer produced.")
@format_option
@output_option
def sync(infra: Path | None, dry_run: bool, clean_orphans: bool, fmt: str, output_dir: Path | None) -> int:
    """Compile and write generated/ atomically: all of it, or nothing."""
    result = _compile(infra, output_dir=output_dir)
    if not result.ok:
        return _fail(result, fmt)
    the_plan = make_plan(result.tree, result.output_dir)
    written: list[str] = []
    if not dry_run:
        try:
            written = write(the_plan, result.tree, clean_orphans=clean_orphans)
        except WriteError as exc:
            click.echo(f"psot: {exc}", err=True)
            return EXIT_TOOL
    orphans = [c.path for c in the_plan.changes if c.action == "delete" and not clean_orphans]
    if fmt == "json":
        body = the_plan.to_dict()
        body.update({"written": written, "orphans": orphans, "dry_run": dry_run,
                     "findings": [f.to_dict() for f in result.diag.findings]})
        click.echo(json.dumps(body, indent=2))
        return EXIT_OK
    _print_findings(result)
    click.echo(the_plan.to_text(), nl=False)
    where = f"{result.output_dir.name}/"
    if dry_run:
        click.echo("Dry run: nothing was written.")
    elif written:
        click.echo(f"Wrote {where}: {len(written)} file{'s' if len(written) != 1 else ''} changed.")
    if orphans:
        click.echo(f"{len(orphans)} orphaned file{'s' if len(orphans) != 1 else ''} kept in {where} "
                   "(no longer generated; `psot sync --clean-orphans` deletes them):")
        for path in orphans:
            click.echo(f"  {path}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the command and exit with its code, never a traceback."""
    try:
        code = cli.main(args=argv, prog_name="psot", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = EXIT_ERRORS if isinstance(exc, click.UsageError) else EXIT_TOOL
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = EXIT_TOOL
    except Exception as exc:  # a bug in psot: say so plainly, keep the details for a report
        click.echo(f"psot: internal error: {type(exc).__name__}: {exc}", err=True)
        if os.environ.get("PSOT_DEBUG"):
            traceback.print_exc()
        else:
            click.echo("psot: this is a bug in psot; rerun with PSOT_DEBUG=1 and report the traceback.", err=True)
        code = EXIT_TOOL
    sys.exit(code if isinstance(code, int) else EXIT_OK)
