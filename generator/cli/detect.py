"""`psot detect [--from FILE...] [--host NAME] [--check INFRA] [--format text|json]`.

Exit codes (SPEC §6): 0 success (with --check: the inventory matches the
machine); 1 errors in the input (an unreadable --from file, an infra.yml
with errors, an unknown --host); 2 with --check: the inventory and the
machine differ (missing, unusable, new or changed GPUs), like `sync --check` finding
generated/ stale; 3 detection could not run (no tool, or none that worked).

Text mode prints the block (or the --check report) on stdout and findings
on stderr; `--format json` prints one JSON document on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli import colour
from generator.detect import check as checking
from generator.detect import render
from generator.detect.merge import (
    Detection,
    Gpu,
    bad_host_name,
    could_not_run,
    gather,
    has_errors,
    host_or_this,
    incomplete,
    sorted_findings,
)
from generator.diagnostics.findings import Finding, render_text, summary_line

EXIT_OK, EXIT_ERRORS, EXIT_DIFFERS, EXIT_TOOL = 0, 1, 2, 3


def _valid_host(ctx, param, value: str | None) -> str | None:
    if value is not None and (problem := bad_host_name(value)) is not None:
        raise click.BadParameter(problem)
    return value


@click.command("detect")
@click.argument("more", nargs=-1, type=click.Path(path_type=Path), metavar="[FILE]...")
@click.option("--from", "sources", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="Read saved tool outputs instead of running the tools (repeatable; further FILEs may follow). "
                   "The format is told by the content.")
@click.option("--host", callback=_valid_host, metavar="NAME",
              help="The host the GPUs belong to (default: this machine's short hostname).")
@click.option("--check", "infra", type=click.Path(path_type=Path), metavar="INFRA",
              help="Compare the inventory of INFRA with what is detected: missing, new and changed GPUs.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output for people (text) or machines (json).")
def detect(more: tuple[Path, ...], sources: tuple[Path, ...], host: str | None, infra: Path | None, fmt: str) -> int:
    """Build the GPU inventory from nvidia-smi, rocm-smi, amd-smi and lspci, or check infra.yml against it."""
    if more and not sources:
        raise click.UsageError("FILE arguments are saved tool outputs: pass them after --from")
    detection, findings = gather(list(sources) + list(more))
    if infra is not None and not could_not_run(findings) and not has_errors(findings):
        return _check(*checking.check_detected(infra, detection, host, findings), detection, fmt)
    findings += incomplete(detection.gpus)
    _inventory(host_or_this(host), detection, findings, fmt)
    return EXIT_TOOL if could_not_run(findings) else EXIT_ERRORS if has_errors(findings) else EXIT_OK


def _inventory(name: str, detection: Detection, findings: list[Finding], fmt: str) -> None:
    """The block to paste (text) or the detection (JSON), with the findings."""
    if fmt == "json":
        click.echo(render.detect_json(name, detection, sorted_findings(findings)), nl=False)
        return
    _print_findings(findings)
    if not has_errors(findings):
        click.echo(render.block_text(name, detection.gpus, detection.tools, detection.host_fields()), nl=False)
        click.echo(f"psot: {_count(detection.gpus)} of {name} from {', '.join(detection.tools) or 'no tool'}; "
                   f"{summary_line(findings)}.", err=True)
    else:
        click.echo(f"psot: {summary_line(findings)}; no inventory printed.", err=True)


def _check(result: checking.CheckReport, findings: list[Finding], detection: Detection, fmt: str) -> int:
    """The --check report (text or JSON): exit 0 in sync, 2 when the machine differs, 1 when nothing compared."""
    if fmt == "json":
        click.echo(render.check_json(result, detection.tools, sorted_findings(findings)), nl=False)
    else:
        _print_findings(findings)
        if result.compared:
            click.echo(render.check_text(result, detection.tools), nl=False)
        else:
            click.echo(f"psot: {summary_line(findings)}; nothing was compared.", err=True)
    if has_errors(findings) or not result.compared:
        return EXIT_ERRORS
    return EXIT_OK if result.in_sync else EXIT_DIFFERS


def _print_findings(findings: list[Finding]) -> None:
    if findings:
        click.echo(colour.findings(render_text(sorted_findings(findings))), nl=False, file=sys.stderr)


def _count(gpus: list[Gpu]) -> str:
    return f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''}"
