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

import socket
import sys
from pathlib import Path

import click

from generator.cli import colour
from generator.detect import check as checking
from generator.detect import merge, normalise, render, tools
from generator.detect.records import finding
from generator.diagnostics.findings import WARNING, Finding, render_text, summary_line

EXIT_OK, EXIT_ERRORS, EXIT_DIFFERS, EXIT_TOOL = 0, 1, 2, 3


def this_host() -> str | None:
    """This machine's short hostname as a psot name (`ws.lan` -> `ws`), or None."""
    return normalise.host_name(socket.gethostname())


def bad_host_name(value: str) -> str | None:
    """Why `value` cannot be a host's name in infra.yml (it becomes file names), or None when it can."""
    if len(value) > normalise.NAME_MAX or not normalise.NAME_PATTERN.fullmatch(value):
        return (f"{value!r} is not a host name infra.yml accepts (lower-case letters, digits and inner hyphens, "
                "at most 63 characters)")
    return None


def _valid_host(ctx, param, value: str | None) -> str | None:
    if value is not None and (problem := bad_host_name(value)) is not None:
        raise click.BadParameter(problem)
    return value


def gather(sources: list[Path]) -> tuple[merge.Detection, list[Finding]]:
    """The named GPUs of the saved outputs `sources`, else of this machine's tools, and every finding about them
    (DETECT004 when no tool could run, DETECT009 when the tools found no GPU)."""
    if sources:
        outputs, findings = tools.read_files(sources), list[Finding]()
    else:
        outputs, findings = tools.run_all()
    detection = merge.merge(outputs)
    detection.gpus = merge.named(detection.gpus)
    return detection, findings + detection.findings + _nothing_found(detection, outputs)


def could_not_run(findings: list[Finding]) -> bool:
    return any(f.code == "DETECT004" for f in findings)


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
        return _check(infra, detection, host, findings, fmt)
    findings += incomplete(detection.gpus)
    name = host or this_host() or "localhost"
    if fmt == "json":
        click.echo(render.detect_json(name, detection, sorted_findings(findings)), nl=False)
    else:
        _print_findings(findings)
        if not has_errors(findings):
            click.echo(render.block_text(name, detection.gpus, detection.tools, detection.host_fields()), nl=False)
            click.echo(f"psot: {_count(detection.gpus)} of {name} from {', '.join(detection.tools) or 'no tool'}; "
                       f"{summary_line(findings)}.", err=True)
        else:
            click.echo(f"psot: {summary_line(findings)}; no inventory printed.", err=True)
    return EXIT_TOOL if could_not_run(findings) else EXIT_ERRORS if has_errors(findings) else EXIT_OK


def _check(infra: Path, detection: merge.Detection, host: str | None, findings: list[Finding], fmt: str) -> int:
    result = checking.check(infra, detection, host, this_host())
    findings = findings + result.findings + incomplete(result.new)
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


def _nothing_found(detection: merge.Detection, outputs: list) -> list[Finding]:
    readable = [p for p in outputs if not merge.failed(p)]
    if not readable or detection.gpus:
        return []
    return [finding("DETECT009", WARNING, "no GPU found: no NVIDIA, AMD or Intel display or accelerator device in "
                    f"{', '.join(p.source for p in readable)}", readable[0].source)]


def incomplete(gpus: list[merge.Gpu]) -> list[Finding]:
    """The GPUs of a printed block that it can only give commented out."""
    return [finding("DETECT006", WARNING, f"{gpu.label()}: no tool reported its VRAM (only {', '.join(gpu.tools)} "
                    "saw it), so it is left commented out in the block: fill in vram_gb (and index, for compose) "
                    "and uncomment it", gpu.where[0], gpu.where[1]) for gpu in gpus if not gpu.complete]


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(set(findings), key=Finding.sort_key)


def _print_findings(findings: list[Finding]) -> None:
    if findings:
        click.echo(colour.findings(render_text(sorted_findings(findings))), nl=False, file=sys.stderr)


def _count(gpus: list) -> str:
    return f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''}"
