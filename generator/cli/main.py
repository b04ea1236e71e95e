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
from generator.cli import colour
from generator.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_TOOL,
    compile_at,
    format_option,
    infra_argument,
    print_findings,
)
from generator.diagnostics.findings import render_json, summary_line

# Every command but `validate` lives in its own module, imported when it runs (or `--help` lists it):
# `psot validate` starts without the placement search, the renderers, the plan, the sync and the writer
# (tests/cli/test_validate_imports.py checks it).

class _Commands(click.Group):
    """The top-level group. Commands that live in their own module are imported only when they run
    (or `--help` lists them): `psot validate` must not pay for importing placement, `apply` or `detect`."""

    LAZY = {"place": "generator.cli.place:place", "plan": "generator.cli.tree:plan", "sync": "generator.cli.tree:sync",
            "apply": "generator.cli.apply:apply", "rollback": "generator.cli.apply:rollback",
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
