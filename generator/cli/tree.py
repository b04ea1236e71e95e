"""`psot plan` and `psot sync`: compare the compiled tree with generated/, or write it there.

Registered on the main command group by generator/cli/main.py, which imports it only when one of them runs:
the placement, the renderers, the plan and the writer stay off `psot validate`'s imports.
"""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli import views
from generator.cli.common import compile_at, fail, format_option, infra_argument, infra_path, output_option


@click.command()
@infra_argument
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="For people (text), machines (json), or a pull-request comment (markdown).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Also save the plan, with the apply commands it implies, for `psot apply FILE`.")
@click.option("--mode", "mode", metavar="MODE",
              help="Plan the tree with this mode of `modes:` active (default: global.mode).")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Read back from the machines what changed by hand since psot applied it (when something was "
                   "applied from here).")
@output_option
def plan(infra: Path | None, fmt: str, out: Path | None, mode: str | None, refresh: bool,
         output_dir: Path | None) -> int:
    """Diff the compiled tree against generated/. Exit 0 no change, 2 changes, 1 errors."""
    result = compile_at(infra, output_dir=output_dir, mode=mode)
    if not result.ok:
        return fail(result, "json" if fmt == "json" else "text", writes=False)
    from generator.plan import service
    return views.plan(service.plan(result, with_files=fmt == "markdown", out=out, refresh=refresh), fmt)


@click.command()
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
    from generator import sync as syncing
    options = syncing.Options(check=check, dry_run=dry_run, force=force, clean_orphans=clean_orphans)
    return views.sync(syncing.sync(infra_path(infra), output_dir, options), fmt)
