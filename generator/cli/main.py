"""`psot`: validate, place, plan and sync (SPEC §6).

Exit codes: 0 success, 1 errors in the input, 2 `plan` found changes,
3 psot itself could not run (I/O, an internal error). Text output is for
people; `--format json` for machines. Findings go to stderr in text mode
(stdout carries the plan or table), except for `validate`, whose output
they are.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
from pathlib import Path

import click

from generator import __version__
from generator.cli import colour
from generator.cli.common import (
    EXIT_CHANGES,
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_TOOL,
    compile_at,
    fail,
    format_option,
    infra_argument,
    output_option,
    print_findings,
    tool_failure,
)
from generator.diagnostics.findings import Diagnostics, Finding, one_line, render_json, summary_line
from generator.load.loader import default_infra_path
from generator.pipeline import Compilation, previous_placement
from generator.placement import report
from generator.placement.core import STRATEGY_NAMES
from generator.placement.failover import fail_over

# plan, plan_markdown and writer are imported by the commands that use them: `psot validate`
# starts in a fraction of the time without them (hashlib, ctypes, tempfile, difflib...).

class _Commands(click.Group):
    """The top-level group. Commands that live in their own package are imported only when they run
    (or `--help` lists them): `psot validate` must not pay for importing `apply` or `detect`."""

    LAZY = {"apply": "generator.cli.apply:apply", "rollback": "generator.cli.apply:rollback",
            "init": "generator.starter:init", "detect": "generator.cli.detect:detect",
            "explain": "generator.diagnostics.explain:explain"}

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        # `--no-color` is accepted after any command too (`psot plan --no-color`), as Terraform's -no-color is.
        if not any(param.name == "no_color" for param in cmd.params):
            cmd.params.append(no_color_option())
        super().add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.LAZY))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            module, attr = self.LAZY[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


def no_color_option() -> click.Option:
    return click.Option(["--no-color"], is_flag=True, expose_value=False, is_eager=True, callback=colour.turn_off,
                        help="Print no colour (also when NO_COLOR is set, or the output is not a terminal).")


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="psot")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """psot compiles infra.yml into Incus, Proxmox, Compose and Kubernetes configuration."""
    if os.environ.get("NO_COLOR"):
        colour.turn_off(ctx)


cli.params.append(no_color_option())


@cli.command()
@infra_argument
@format_option
def validate(infra: Path | None, fmt: str) -> int:
    """Report findings only. Exit 0 when there is no error, 1 otherwise."""
    result = compile_at(infra, until="validate")
    findings = result.diag.findings
    if fmt == "json":
        click.echo(render_json(findings), nl=False)
    else:
        print_findings(result, sys.stdout)
        click.echo(f"{summary_line(findings)}.", err=not result.ok)
    return EXIT_OK if result.ok else EXIT_ERRORS


@cli.command()
@infra_argument
@click.option("--strategy", type=click.Choice(STRATEGY_NAMES),
              help="Preview another strategy than global.placement.strategy.")
@click.option("--compare", is_flag=True, help="Show the five strategies side by side.")
@click.option("--without", "without", multiple=True, metavar="GPU",
              help="Place as if this GPU (its name, or host/gpu) had failed (repeatable), and show what moves.")
@format_option
@output_option
def place(infra: Path | None, strategy: str | None, compare: bool, without: tuple[str, ...], fmt: str,
          output_dir: Path | None) -> int:
    """Show which GPU every consumer gets (no file is written). Exit 1 when the placement has errors."""
    if compare:
        return _compare(infra, without, fmt, output_dir)
    baseline = compile_at(infra, strategy=strategy, until="place", output_dir=output_dir)
    failover = fail_over(baseline, without) if without and baseline.placement is not None else None
    result = failover.after if failover is not None else baseline
    if result.placement is None:
        return fail(result, fmt, writes=False)
    moved = failover.moves if failover is not None else []
    warnings = failover.warnings() if failover is not None else []
    if failover is not None:
        without = failover.gone   # as host/gpu, however the command line named them
        result.diag.extend(warnings)
    if fmt == "json":
        body = result.placement.to_dict()
        body["findings"] += [f.to_dict() for f in warnings]
        if without:
            body["without"] = list(without)
            body["moves"] = [m.to_dict() for m in moved]
        click.echo(json.dumps(body, indent=2))
    else:
        print_findings(result)
        click.echo(report.placement_table(result.need_infra(), result.need_placement()), nl=False)
        if without:
            click.echo(f"\nWithout {one_line(', '.join(without))}: "
                       + (f"{len(moved)} consumer{'s move' if len(moved) != 1 else ' moves'}" if moved
                          else "nothing moves"))
            for move in moved:
                click.echo(f"  {move.text()}")
    return EXIT_OK if result.ok else EXIT_ERRORS


def _compare(infra: Path | None, without: tuple[str, ...], fmt: str, output_dir: Path | None) -> int:
    results = {s: compile_at(infra, strategy=s, until="place", output_dir=output_dir, without=without)
               for s in STRATEGY_NAMES}
    if any(r.placement is None for r in results.values()):
        return fail(next(r for r in results.values() if r.placement is None), fmt, writes=False)
    placements = {s: r.need_placement() for s, r in results.items()}
    counts = {s: (r.diag.error_count, len(r.diag.findings) - r.diag.error_count) for s, r in results.items()}
    if fmt == "json":
        click.echo(json.dumps({"strategies": {s: r.need_placement().to_dict() | {
            "findings": [f.to_dict() for f in r.diag.findings]} for s, r in results.items()}}, indent=2))
    else:
        click.echo(report.compare_table(next(iter(results.values())).need_infra(), placements, counts), nl=False)
    return EXIT_OK


@cli.command()
@infra_argument
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="For people (text), machines (json), or a pull-request comment (markdown).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Also save the plan, with the apply commands it implies, for `psot apply FILE`.")
@output_option
def plan(infra: Path | None, fmt: str, out: Path | None, output_dir: Path | None) -> int:
    """Diff the compiled tree against generated/. Exit 0 no change, 2 changes, 1 errors."""
    result = compile_at(infra, output_dir=output_dir)
    if not result.ok:
        return fail(result, "json" if fmt == "json" else "text", writes=False)
    from generator.apply.units import programs, programs_text
    from generator.plan.changes import make_plan, read_tree
    from generator.plan.markdown import render_markdown
    failing = "json" if fmt == "json" else "text"
    try:
        the_plan = make_plan(result.need_tree(), result.output_dir)
        on_disk = read_tree(result.output_dir) if fmt == "markdown" else {}
    except OSError as exc:
        return tool_failure(f"cannot read {result.output_dir}: {exc.strerror or exc}", failing, result.diag.findings)
    if out is not None:
        from generator.cli.apply import save_plan
        try:
            save_plan(result, out)
        except OSError as exc:
            return tool_failure(f"cannot save the plan to {out}: {exc.strerror or exc}", failing,
                                 result.diag.findings)
    # What apply will run is not in generated/, so the plan shows it.
    uses = programs(result.need_tree(), result.need_infra().data)
    if fmt == "markdown":
        click.echo(render_markdown(the_plan, result.need_tree(), on_disk, result.need_placement(),
                                   previous_placement(result.output_dir), programs=uses), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(the_plan.to_dict() | {"commands": [p.to_dict() for p in uses]}, indent=2))
    else:
        print_findings(result)
        click.echo(colour.plan(the_plan.to_text()), nl=False)
        if uses:
            click.echo("\n" + programs_text(uses), nl=False)
    if out is not None:
        click.echo(f"Saved this plan to {out}: `psot apply {out}` applies exactly it.", err=True)
    return EXIT_CHANGES if the_plan.changes else EXIT_OK


def _drift_findings(result: Compilation, drift) -> list:
    """Drift as compiler findings: the file, the first line psot would write differently, what to do."""
    where, diag = result.output_dir.name, Diagnostics()
    for d in drift:
        diag.at_location("DRIFT001", "error", f"edited by hand since psot wrote it; move the change into "
                         f"{result.source.name} (generated files are rewritten by every sync), or run "
                         "`psot sync --force` to overwrite it", f"{where}/{d.path}", d.line, 1)
    return diag.findings


@cli.command()
@infra_argument
@click.option("--dry-run", is_flag=True, help="Show the plan; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 2 when generated/ is not up to date (for CI).")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited by hand.")
@click.option("--clean-orphans", is_flag=True, help="Delete files psot generated earlier that are no longer produced.")
@format_option
@output_option
def sync(infra: Path | None, dry_run: bool, check: bool, force: bool, clean_orphans: bool, fmt: str,
         output_dir: Path | None) -> int:
    """Compile and write generated/ atomically: all of it, or nothing."""
    from generator.plan.changes import make_plan
    from generator.workspace import cache as sync_cache
    from generator.workspace.writer import WriteError, tidy, write
    try:
        # Nothing changed since the tree on disk was compiled: no need to compile (see sync_cache.py).
        cached = sync_cache.lookup(infra if infra is not None else default_infra_path(), output_dir)
    except OSError:
        cached = None   # generated/ could not be read whole (other syncs swapping it): compile, and plan again
    if cached is not None:
        result, the_plan = cached
    else:
        result = compile_at(infra, output_dir=output_dir)
        if not result.ok:
            return fail(result, fmt)
        try:
            the_plan = make_plan(result.need_tree(), result.output_dir)
        except OSError as exc:
            return tool_failure(f"cannot read {result.output_dir}: {exc.strerror or exc}", fmt, result.diag.findings)
    if not check and not dry_run:
        try:
            tidy(result.output_dir)   # what a killed sync left, also when this one writes nothing
        except WriteError as exc:
            return tool_failure(str(exc), fmt, result.diag.findings)
    if check:
        stale = bool(the_plan.changes)
        if fmt == "json":
            click.echo(json.dumps(the_plan.to_dict() | {"up_to_date": not stale}, indent=2))
        else:
            click.echo(colour.plan(the_plan.to_text()), nl=False)
            if stale:
                click.echo(f"{one_line(result.output_dir.name)}/ is not up to date with "
                           f"{one_line(result.source.name)}: run `make sync` and commit the result.", err=True)
        return EXIT_CHANGES if stale else EXIT_OK
    # A hand edit blocks only a file this sync would rewrite or delete.
    touched = {c.path for c in the_plan.changes if c.action != "delete" or clean_orphans}
    blocking = [d for d in the_plan.drift if d.path in touched]
    if blocking and not force and not dry_run:
        drift = _drift_findings(result, blocking)
        if fmt == "json":
            click.echo(render_json(sorted(result.diag.findings + drift, key=Finding.sort_key),
                                   **the_plan.to_dict(), written=[]), nl=False)
            return EXIT_ERRORS
        for finding in drift:
            click.echo(finding.format(), err=True)
        click.echo(f"psot: {len(blocking)} generated file{'s' if len(blocking) != 1 else ''} edited by hand; "
                   "nothing was written.", err=True)
        return EXIT_ERRORS
    written: list[str] = []
    if not dry_run:
        try:
            written = write(the_plan, result.need_tree(), clean_orphans=clean_orphans)
        except WriteError as exc:
            return tool_failure(str(exc), fmt, result.diag.findings)
    orphans = [c.path for c in the_plan.changes if c.action == "delete" and not clean_orphans]
    if cached is None and not dry_run and not orphans:
        sync_cache.record(result, output_dir)
    if fmt == "json":
        body = the_plan.to_dict()
        body.update({"written": written, "orphans": orphans, "dry_run": dry_run,
                     "findings": [f.to_dict() for f in result.diag.findings]})
        click.echo(json.dumps(body, indent=2))
        return EXIT_OK
    print_findings(result)
    click.echo(colour.plan(the_plan.to_text()), nl=False)
    where = f"{one_line(result.output_dir.name)}/"
    if dry_run:
        click.echo("Dry run: nothing was written.")
    elif written:
        click.echo(f"Wrote {where}: {len(written)} file{'s' if len(written) != 1 else ''} changed.")
    if orphans:
        click.echo(f"{len(orphans)} orphaned file{'s' if len(orphans) != 1 else ''} kept in {where} "
                   "(no longer generated; `psot sync --clean-orphans` deletes them):")
        for path in orphans:
            click.echo(f"  {one_line(path)}")
    return EXIT_OK


def _json_requested(args: list[str]) -> bool:
    """`--format json` (or `--format=json`) on the command line, which could not be parsed or run."""
    return "--format=json" in args or any(a == "--format" and b == "json" for a, b in zip(args, args[1:]))


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the command and exit with its code, never a traceback."""
    # One command is a short-lived process that builds large structures without reference
    # cycles (the document, the model, the tree). The cyclic collector found nothing to free
    # on the bench inputs (peak RSS of a 10 000-workload sync: 158 MB with it, 161 MB without)
    # but took a third of the time, walking them again and again: it stays off until exit.
    gc.disable()
    gc.freeze()
    args = sys.argv[1:] if argv is None else list(argv)
    failure = None   # what ended the command, for one JSON document under --format json
    try:
        code = cli.main(args=args, prog_name="psot", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = EXIT_ERRORS if isinstance(exc, click.UsageError) else EXIT_TOOL
        failure = exc.format_message()
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code, failure = EXIT_TOOL, "aborted"
    except Exception as exc:  # a bug in psot: say so plainly, keep the details for a report
        click.echo(f"psot: internal error: {type(exc).__name__}: {exc}", err=True)
        if os.environ.get("PSOT_DEBUG"):
            import traceback
            traceback.print_exc()
        else:
            click.echo("psot: this is a bug in psot; rerun with PSOT_DEBUG=1 and report the traceback.", err=True)
        code, failure = EXIT_TOOL, f"internal error: {type(exc).__name__}: {exc}"
    if failure is not None and _json_requested(args):
        click.echo(render_json([], ok=False, error=failure), nl=False)
    # Nor at exit: Python's last collection would walk everything the command built (a tenth
    # of `psot validate`'s time). The objects are still freed, and finalised, as usual.
    gc.freeze()
    sys.exit(code if isinstance(code, int) else EXIT_OK)
