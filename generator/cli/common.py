"""What every `psot` command module shares: exit codes, options, compiling an infra.yml, reporting failures.

generator/cli/main.py (the main group) and the command modules it loads lazily (generator/cli/apply.py, ...)
both import this module, so no command module imports another one (tests/test_import_cycles.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli import colour
from generator.diagnostics.findings import render_json, render_text, summary_line
from generator.load.loader import default_infra_path
from generator.pipeline import Compilation, compile_infra

EXIT_OK, EXIT_ERRORS, EXIT_CHANGES, EXIT_TOOL = 0, 1, 2, 3

infra_argument = click.argument("infra", required=False, type=click.Path(path_type=Path))
format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="Output for people (text) or machines (json).")
output_option = click.option("--output-dir", "-o", type=click.Path(path_type=Path), default=None,
                             help="Where the generated tree lives (default: generated/ beside infra.yml).")


def infra_path(infra: Path | None) -> Path:
    """The INFRA argument, or when it is left out the infra.yml (or infra/) the loader finds."""
    return infra if infra is not None else default_infra_path()


def compile_at(infra: Path | None, **kwargs) -> Compilation:
    """Compile `infra` (default: the infra.yml the loader finds)."""
    return compile_infra(infra_path(infra), **kwargs)


def print_findings(result: Compilation, stream=None) -> None:
    findings = result.diag.findings
    if findings:
        click.echo(colour.findings(render_text(findings)), nl=False, file=stream or sys.stderr)


def fail(result: Compilation, fmt: str, writes: bool = True) -> int:
    """Report an input with errors (exit 1). A command that `writes` says it wrote nothing; one that never
    writes (`place`, `plan`) says only the count: "nothing was written" would suggest it might have."""
    if fmt == "json":
        click.echo(render_json(result.diag.findings), nl=False)
    else:
        print_findings(result)
        click.echo(f"psot: {summary_line(result.diag.findings)}{'; nothing was written' if writes else ''}.",
                   err=True)
    return EXIT_ERRORS


def tool_failure(message: str, fmt: str, findings: list | None = None) -> int:
    """psot could not do its work (I/O, the lock): exit 3, with one JSON document under --format json."""
    if fmt == "json":
        click.echo(render_json(list(findings or []), ok=False, error=message), nl=False)
    else:
        click.echo(f"psot: {message}", err=True)
    return EXIT_TOOL
