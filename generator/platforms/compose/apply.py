"""Compose apply: the changed override files of generated/compose/ as `<compose> up` commands, per host.

`<command> [--project-directory <dir>] -f <user file>… -f <override> up -d --force-recreate --no-deps --
<services>` with only the services whose entry in the override changed (seed 001's restart flow), each
host with its own command, files and project directory (`hosts.<host>.compose`, else `global.compose`,
else its platform's: docker → `docker compose`, podman → `podman-compose`; generator/model/hosts.py).
Files are relative to infra.yml. With `hosts.<host>.ssh`, Docker's own `DOCKER_HOST=ssh://…` runs it
on that host. Rollback applies the previous override the same way.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from generator.apply.units import Change, Context, Program, Step, Unit, action_of, as_mapping, parse_yaml, path_argument
from generator.model.hosts import ComposeSettings, compose_settings
from generator.platforms.compose import NAME


def _services(content: bytes | None) -> dict:
    return as_mapping(as_mapping(parse_yaml(content)).get("services"))


def settings_of(infra_data: Mapping[str, Any], host: str) -> ComposeSettings:
    """The host's compose settings, from infra.yml's data."""
    return compose_settings(host, as_mapping(as_mapping(infra_data.get("hosts")).get(host)),
                            as_mapping(infra_data.get("global")))


def units(changes: list[Change], ctx: Context, desired: Mapping[str, bytes],
          applied: Mapping[str, bytes]) -> list[Unit]:
    """One unit per changed override file: it recreates the services whose entry changed."""
    out: list[Unit] = []
    for path, old, new in sorted(changes):
        parts = path.split("/")
        host = parts[1]
        action = action_of([(old, new)])
        if new is None and not ctx.clean_orphans:
            continue
        before, after = _services(old), _services(new)
        changed = sorted(s for s in set(before) | set(after) if before.get(s) != after.get(s))
        if not changed:
            out.append(Unit(NAME, action, {path: new}))
            continue
        override = (ctx.source_label(path),) if new is not None else ()
        command, env = compose_command(ctx, host, override)
        reads = ((ctx.source_path(path), new),) if new is not None else ()
        step = Step((*command, "up", "-d", "--force-recreate", "--no-deps", "--", *changed), env=env, reads=reads)
        out.append(Unit(NAME, action, {path: new}, [step],
                        note=f"recreates {', '.join(changed)}; other services are not touched"))
    return out


def compose_command(ctx: Context, host: str, more_files: tuple[str, ...] = ()) \
        -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The host's compose command with its project directory and the user's `-f` files (then `more_files`), and
    the environment it runs in (DOCKER_HOST over ssh when the host has a destination): what a verb follows."""
    settings = settings_of(ctx.infra_data, host)
    options: tuple[str, ...] = ()
    if settings.project_dir is not None:
        options += ("--project-directory", path_argument(settings.project_dir))
    for name in (*settings.files, *more_files):
        options += ("-f", path_argument(name))
    dest = ctx.ssh(host)
    return (*shlex.split(settings.command), *options), ((("DOCKER_HOST", f"ssh://{dest}"),) if dest else ())


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    """The compose command, per host with an override file, and where it runs."""
    hosts = sorted({p.split("/")[1] for p in files if p.count("/") == 2})
    out = []
    for host in hosts:
        settings = settings_of(ctx.infra_data, host)
        dest = ctx.ssh(host)
        chosen = (".".join(settings.command_path),) if settings.command_path else ()
        out.append(Program(NAME, host, (shlex.join(shlex.split(settings.command)),),
                           f"on this machine with DOCKER_HOST=ssh://{dest}" if dest else "on this machine",
                           chosen + ((f"hosts.{host}.ssh",) if dest else ())))
    return out
