"""`psot init [DIR] [--from FILE...] [--host NAME] [--format text|json]`: the command; generator/starter.py does
the work and says what it did (an `Outcome`), printed here as text or JSON."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli import colour
from generator.diagnostics.findings import render_text
from generator.starter import INFRA_FILE, Outcome, run


@click.command("init")
@click.argument("args", nargs=-1, type=click.Path(path_type=Path), metavar="[DIR]")
@click.option("--from", "sources", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="Build the host from saved nvidia-smi, rocm-smi, amd-smi or lspci outputs, as `psot detect "
                   "--from` does (repeatable; further FILEs may follow). Default: this machine's tools.")
@click.option("--host", metavar="NAME", help="The host's name (default: this machine's short hostname).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output for people (text) or machines (json).")
def init(args: tuple[Path, ...], sources: tuple[Path, ...], host: str | None, fmt: str) -> int:
    """Write a commented starter infra.yml into DIR (default: .) that compiles as it is.

    DIR is created if missing; an infra.yml already there is never replaced. With --from, a further
    argument that is an existing file is one more saved output, and DIR comes first.
    """
    directory, more, problem = _split(args, bool(sources))
    outcome = run(directory, list(sources) + more, host) if problem is None else \
        Outcome(path=directory / INFRA_FILE).refused(problem)
    if fmt == "json":
        click.echo(outcome.to_json(), nl=False)
        return outcome.code
    if outcome.findings:
        click.echo(colour.findings(render_text(outcome.findings)), nl=False, file=sys.stderr)
    if outcome.written:
        click.echo(outcome.summary(directory))
    else:
        click.echo(f"psot: {outcome.message}", err=True)
    return outcome.code


def _split(args: tuple[Path, ...], with_sources: bool) -> tuple[Path, list[Path], str | None]:
    """DIR, the further saved outputs among the positional arguments, and what is wrong with them."""
    if not with_sources:
        if len(args) > 1:
            return args[0], [], "init takes one DIR; saved tool outputs go after --from; nothing was written"
        return (args[0] if args else Path(".")), [], None
    directory, more = Path("."), []
    for position, arg in enumerate(args):
        if arg.is_file():
            more.append(arg)
        elif position == 0:
            directory = arg
        else:
            return directory, more, (f"{arg} is not a file: saved tool outputs follow --from, and DIR comes "
                                     "first; nothing was written")
    return directory, more, None
