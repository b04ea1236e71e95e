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
import os
import sys
from pathlib import Path

import click

from generator import __version__
from generator.cli import colour, views
from generator.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_TOOL,
    compile_at,
    fail,
    format_option,
    infra_argument,
    infra_path,
    output_option,
    print_findings,
)
from generator.diagnostics.findings import render_json, summary_line
from generator.placement import preview
from generator.placement.core import STRATEGY_NAMES

# The plan, the sync and the writer are imported by the commands that use them: `psot validate`
# starts in a fraction of the time without them (hashlib, ctypes, tempfile, difflib...).

class _Commands(click.Group):
    """The top-level group. Commands that live in their own package are imported only when they run
    (or `--help` lists them): `psot validate` must not pay for importing `apply` or `detect`."""

    LAZY = {"apply": "generator.cli.apply:apply", "rollback": "generator.cli.apply:rollback",
            "init": "generator.cli.init:init", "detect": "generator.cli.detect:detect",
            "explain": "generator.cli.explain:explain", "switch": "generator.cli.switch:switch"}

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


@cli.command()
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
    from generator import sync as syncing
    options = syncing.Options(check=check, dry_run=dry_run, force=force, clean_orphans=clean_orphans)
    return views.sync(syncing.sync(infra_path(infra), output_dir, options), fmt)


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
