"""How `psot place`, `psot plan` and `psot sync` print their outcomes, for people (text) or machines (JSON),
and the exit code each outcome gives.

Text goes to stdout (the table, the plan) with the findings on stderr; JSON is one document on stdout.
The plan, the Markdown renderer and apply's programs are imported by the views that print them:
`psot validate` loads this module and must not pay for them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from generator.cli import colour
from generator.cli.common import EXIT_CHANGES, EXIT_ERRORS, EXIT_OK, fail, print_findings, tool_failure
from generator.diagnostics.findings import Finding, one_line, render_json, render_text
from generator.placement import report

if TYPE_CHECKING:
    from generator.modes.compare import ModeComparison
    from generator.placement.preview import Comparison, Preview
    from generator.plan.service import Planned
    from generator.sync import Synced


def place(shown: Preview, fmt: str) -> int:
    """The placement table (or document), and with GPUs gone what moves. Exit 1 when it has errors."""
    result = shown.result
    if result.placement is None:
        return fail(result, fmt, writes=False)
    if fmt == "json":
        body = result.placement.to_dict()
        body["findings"] += [f.to_dict() for f in shown.warnings]
        if result.mode is not None:
            body["mode"] = result.mode
        if shown.without:
            body["without"] = list(shown.without)
            body["moves"] = [m.to_dict() for m in shown.moves]
        click.echo(json.dumps(body, indent=2))
    else:
        print_findings(result)
        if result.mode is not None:
            click.echo(f"Mode: {one_line(result.mode)}")
        click.echo(report.placement_table(result.need_infra(), result.need_placement()), nl=False)
        if shown.without:
            moved = shown.moves
            click.echo(f"\nWithout {one_line(', '.join(shown.without))}: "
                       + (f"{len(moved)} consumer{'s move' if len(moved) != 1 else ' moves'}" if moved
                          else "nothing moves"))
            for move in moved:
                click.echo(f"  {move.text()}")
    return EXIT_OK if result.ok else EXIT_ERRORS


def compare(comparison: Comparison, fmt: str) -> int:
    """The strategies side by side (or one document with each); with GPUs gone, what moves per strategy."""
    failed = comparison.failed
    if failed is not None:
        return fail(failed, fmt, writes=False)
    results, moves = comparison.results, comparison.moves()
    if fmt == "json":
        body: dict = {"strategies": {s: r.need_placement().to_dict() | {
            "findings": [f.to_dict() for f in r.diag.findings]}
            | ({"moves": [m.to_dict() for m in moves[s]]} if comparison.without else {})
            for s, r in results.items()}}
        if comparison.without:
            body["without"] = list(comparison.without)
        click.echo(json.dumps(body, indent=2))
    else:
        placements = {s: r.need_placement() for s, r in results.items()}
        click.echo(report.compare_table(next(iter(results.values())).need_infra(), placements, comparison.counts()),
                   nl=False)
        if comparison.without:
            click.echo(f"\nWithout {one_line(', '.join(comparison.without))}:")
            for strategy, moved in moves.items():
                click.echo(f"{strategy}: " + (f"{len(moved)} consumer{'s move' if len(moved) != 1 else ' moves'}"
                                              if moved else "nothing moves"))
                for move in moved:
                    click.echo(f"  {move.text()}")
    # As `psot place --strategy S` does for S: exit 1 when any strategy's placement has an error.
    return EXIT_ERRORS if any(errors for errors, _ in comparison.counts().values()) else EXIT_OK


def compare_modes(comparison: ModeComparison, fmt: str) -> int:
    """The modes side by side (or one document with each). Exit 1 when any mode has an error."""
    failed = comparison.failed
    if failed is not None:
        return fail(failed, fmt, writes=False)
    from generator.modes.compare import compare_table
    if fmt == "json":
        click.echo(json.dumps({"modes": {m: r.need_placement().to_dict() | {
            "findings": [f.to_dict() for f in r.diag.findings]} for m, r in comparison.results.items()}}, indent=2))
    else:
        findings = comparison.findings()
        if findings:
            click.echo(colour.findings(render_text(findings)), nl=False, err=True)
        click.echo(compare_table(comparison), nl=False)
    return EXIT_ERRORS if any(errors for errors, _ in comparison.counts().values()) else EXIT_OK


def plan(planned: Planned, fmt: str) -> int:
    """The plan as text, JSON or Markdown, with the programs apply will use and what changed on the machines by
    hand. Exit 2 when it changes anything (a file, or an object apply puts back)."""
    result = planned.result
    if planned.error is not None:
        return tool_failure(planned.error, "json" if fmt == "json" else "text", result.diag.findings)
    the_plan = planned.need_plan()
    if fmt == "markdown":
        from generator.plan.markdown import render_markdown
        click.echo(render_markdown(the_plan, result.need_tree(), planned.on_disk, result.need_placement(),
                                   planned.previous, programs=planned.programs, live=planned.drift), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(the_plan.to_dict() | {"commands": [p.to_dict() for p in planned.programs]}
                              | ({"live_drift": [d.to_dict() for d in planned.drift]} if planned.drift else {}),
                              indent=2))
    else:
        from generator.apply.units import programs_text
        from generator.cli.apply_views import show_drift
        print_findings(result)
        click.echo(colour.plan(the_plan.to_text()), nl=False)
        for note in planned.notes:
            click.echo(f"note: {note}")
        if planned.drift:
            click.echo("")
            show_drift(planned.drift, click.echo)
        if planned.programs:
            click.echo("\n" + programs_text(planned.programs), nl=False)
    if planned.saved is not None:
        click.echo(f"Saved this plan to {planned.saved}: `psot apply {planned.saved}` applies exactly it.", err=True)
    return EXIT_CHANGES if the_plan.changes or planned.drift else EXIT_OK


def sync(synced: Synced, fmt: str) -> int:
    """What a sync did: written, refused (a hand edit), or with --check whether generated/ is up to date."""
    result = synced.result
    if synced.error is not None:
        return tool_failure(synced.error, fmt, result.diag.findings)
    if synced.plan is None:
        return fail(result, fmt)
    if synced.options.check:
        return _sync_check(synced, fmt)
    if synced.drift:
        return _sync_blocked(synced, fmt)
    the_plan = synced.plan
    if fmt == "json":
        body = the_plan.to_dict()
        body.update({"written": synced.written, "orphans": synced.orphans, "dry_run": synced.options.dry_run,
                     "findings": [f.to_dict() for f in result.diag.findings]})
        click.echo(json.dumps(body, indent=2))
        return EXIT_OK
    print_findings(result)
    click.echo(colour.plan(the_plan.to_text()), nl=False)
    where = f"{one_line(result.output_dir.name)}/"
    written, orphans = synced.written, synced.orphans
    if synced.options.dry_run:
        click.echo("Dry run: nothing was written.")
    elif written:
        click.echo(f"Wrote {where}: {len(written)} file{'s' if len(written) != 1 else ''} changed.")
    if orphans:
        click.echo(f"{len(orphans)} orphaned file{'s' if len(orphans) != 1 else ''} kept in {where} "
                   "(no longer generated; `psot sync --clean-orphans` deletes them):")
        for path in orphans:
            click.echo(f"  {one_line(path)}")
    return EXIT_OK


def _sync_check(synced: Synced, fmt: str) -> int:
    """--check: exit 2 when generated/ is not what the input compiles to (the plan says how)."""
    the_plan, result = synced.need_plan(), synced.result
    if fmt == "json":
        click.echo(json.dumps(the_plan.to_dict() | {"up_to_date": not synced.stale}, indent=2))
    else:
        click.echo(colour.plan(the_plan.to_text()), nl=False)
        if synced.stale:
            click.echo(f"{one_line(result.output_dir.name)}/ is not up to date with "
                       f"{one_line(result.source.name)}: run `make sync` and commit the result.", err=True)
    return EXIT_CHANGES if synced.stale else EXIT_OK


def _sync_blocked(synced: Synced, fmt: str) -> int:
    """Hand edits the sync would overwrite: one DRIFT001 each, nothing written (exit 1)."""
    the_plan, result, drift = synced.need_plan(), synced.result, synced.drift
    if fmt == "json":
        click.echo(render_json(sorted(result.diag.findings + drift, key=Finding.sort_key),
                               **the_plan.to_dict(), written=[]), nl=False)
        return EXIT_ERRORS
    for finding in drift:
        click.echo(finding.format(), err=True)
    click.echo(f"psot: {len(drift)} generated file{'s' if len(drift) != 1 else ''} edited by hand; "
               "nothing was written.", err=True)
    return EXIT_ERRORS
