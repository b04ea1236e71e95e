"""`psot switch MODE [--without GPU] [--dry-run] [--yes]`: the command.

It parses its options, asks for the confirmation as `psot apply` does (cli/apply.py), calls
switch/service.py and prints its outcome with apply's views (cli/apply_views.py). Registered on the
main command group by generator/cli/main.py. Exit codes are apply's (SPEC).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator.apply import service as apply_service
from generator.cli import apply_views as views
from generator.cli.apply import refused_before_running, run_with, yes_option
from generator.cli.common import EXIT_OK, fail, format_option, infra_path, output_option
from generator.switch import service
from generator.switch.service import Mode


@click.command()
@click.argument("mode", required=False)
@click.option("--infra", "infra", type=click.Path(path_type=Path), default=None,
              help="infra.yml (or infra/); default: the one in the current directory.")
@click.option("--without", "without", multiple=True, metavar="GPU",
              help="Switch to the mode without this GPU (its name, or host/gpu; repeatable): failover.")
@click.option("--dry-run", is_flag=True, help="Print the ordered steps; run nothing.")
@yes_option
@format_option
@output_option
def switch(mode: str | None, infra: Path | None, without: tuple[str, ...], dry_run: bool, yes: bool, fmt: str,
           output_dir: Path | None) -> int:
    """Move every platform from the active GPU mode to MODE, in order: stop, move the cards, start.

    Without MODE, the active mode; with --without, that mode minus the GPUs named.
    """
    source = infra_path(infra)
    refused = refused_before_running("switch", yes, dry_run, fmt)
    if refused is not None:
        return refused
    target = service.target_mode(source, mode, without, output_dir)
    if isinstance(target, service.Stopped):
        return fail(target.result, fmt, writes=False)
    done = service.switch(source, target, output_dir, run_with(dry_run, yes, fmt))
    if isinstance(done, service.Stopped):
        return fail(done.result, fmt, writes=False)
    if isinstance(done, service.AlreadyActive):
        return _nothing(done.mode, f"{done.mode.text} is already active: nothing was run.", fmt)
    if isinstance(done, apply_service.Nothing):
        return _nothing(target, f"switched to {target.text}: the two modes need no command.", fmt)
    return views.outcome(done, None, fmt)


def _nothing(mode: Mode, message: str, fmt: str) -> int:
    if fmt == "json":
        click.echo(json.dumps({"status": "nothing", "kind": "switch", "mode": mode.to_dict(), "units": []},
                              indent=2))
    else:
        click.echo(message[0].upper() + message[1:])
    return EXIT_OK
