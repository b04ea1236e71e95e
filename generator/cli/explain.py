"""`psot explain [CODE] [--format text|json]`: what a finding code means and how to fix it.

The text is diagnostics/explain.py's, from the table of codes. Exit 0; an
unknown code exits 1 and names the closest known ones.
"""

from __future__ import annotations

import json

import click

from generator.cli.common import EXIT_ERRORS, EXIT_OK
from generator.diagnostics import codes
from generator.diagnostics.explain import entry_text, listing_text


@click.command("explain")
@click.argument("code", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output for people (text) or machines (json).")
def explain(code: str | None, fmt: str) -> int:
    """Say what a finding code (GPU001, YAML002, ...) means and how to fix it; without CODE, list every code."""
    if code is None:
        if fmt == "json":
            click.echo(json.dumps({"codes": [e.to_dict() for e in codes.registry().values()]}, indent=2,
                                  ensure_ascii=False))
        else:
            click.echo(listing_text(), nl=False)
        return EXIT_OK
    entry = codes.lookup(code)
    if entry is not None:
        text = json.dumps(entry.to_dict(), indent=2, ensure_ascii=False) + "\n" if fmt == "json" else entry_text(entry)
        click.echo(text, nl=False)
        return EXIT_OK
    near = codes.closest(code)
    if fmt == "json":
        click.echo(json.dumps({"error": f"unknown code {code!r}", "did_you_mean": near}, indent=2))
    else:
        hint = f"did you mean {', '.join(near)}?" if near else "`psot explain` lists every code."
        click.echo(f"psot: unknown code {code!r}; {hint}", err=True)
    return EXIT_ERRORS
