"""`psot place`: which GPU every consumer gets, for one strategy, all of them, every mode, or with GPUs failed.

Registered on the main command group by generator/cli/main.py, which imports it only when it runs: the
placement search and its reports stay off `psot validate`'s imports.
"""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli import views
from generator.cli.common import format_option, infra_argument, infra_path, output_option
from generator.placement import preview
from generator.placement.core import STRATEGY_NAMES


@click.command()
@infra_argument
@click.option("--strategy", type=click.Choice(STRATEGY_NAMES),
              help="Preview another strategy than global.placement.strategy.")
@click.option("--compare", is_flag=True, help="Show the five strategies side by side.")
@click.option("--mode", "mode", metavar="MODE", help="Place with this mode of `modes:` applied (default: global.mode).")
@click.option("--compare-modes", is_flag=True, help="Show every mode of `modes:` side by side.")
@click.option("--without", "without", multiple=True, metavar="GPU",
              help="Place as if this GPU (its name, or host/gpu) had failed (repeatable), and show what moves.")
@format_option
@output_option
def place(infra: Path | None, strategy: str | None, compare: bool, mode: str | None, compare_modes: bool,
          without: tuple[str, ...], fmt: str, output_dir: Path | None) -> int:
    """Show which GPU every consumer gets (no file is written). Exit 1 when the placement has errors."""
    if compare_modes:
        from generator.modes import compare as modes_compare
        return views.compare_modes(modes_compare.compare(infra_path(infra), output_dir), fmt)
    if compare:
        return views.compare(preview.compare(infra_path(infra), without, output_dir, mode), fmt)
    return views.place(preview.preview(infra_path(infra), strategy, without, output_dir, mode), fmt)
