"""Compose apply: the changed override files of generated/compose/ as `<compose> up` commands.

`<command> -f <user file> -f <override> up -d --force-recreate --no-deps --
<services>` with only the services whose entry in the override changed
(seed 001's restart flow). `global.compose.command` (default `docker
compose`) and `global.compose.file` (default docker-compose.yml, relative
to infra.yml). With `hosts.<host>.ssh`, Docker's own `DOCKER_HOST=ssh://…`
runs it on that host.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from generator.apply.units import Change, Context, Program, Step, Unit, action_of, as_mapping, parse_yaml, path_argument
from generator.platforms.compose import NAME

DEFAULT_COMPOSE = "docker compose"


def _services(content: bytes | None) -> dict:
    return as_mapping(as_mapping(parse_yaml(content)).get("services"))


def compose_settings(infra_data: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    """The compose command (its words) and the user's compose file, from global.compose."""
    settings = as_mapping(as_mapping(infra_data.get("global")).get("compose"))
    command = tuple(shlex.split(str(settings.get("command") or DEFAULT_COMPOSE)))
    return command, str(settings.get("file") or "docker-compose.yml")


def units(changes: list[Change], ctx: Context, desired: Mapping[str, bytes],
          applied: Mapping[str, bytes]) -> list[Unit]:
    """One unit per changed override file: it recreates the services whose entry changed."""
    command, user_file = compose_settings(ctx.infra_data)
    out: list[Unit] = []
    for path, old, new in sorted(changes):
        parts = path.split("/")
        host = parts[1] if len(parts) == 3 else None
        action = action_of([(old, new)])
        if new is None and not ctx.clean_orphans:
            continue
        before, after = _services(old), _services(new)
        changed = sorted(s for s in set(before) | set(after) if before.get(s) != after.get(s))
        if not changed:
            out.append(Unit(NAME, action, {path: new}))
            continue
        files: tuple[str, ...] = ("-f", path_argument(user_file))
        if new is not None:
            files += ("-f", path_argument(ctx.source_label(path)))
        env: tuple[tuple[str, str], ...] = ()
        dest = ctx.ssh(host) if host else None
        if dest:
            env = (("DOCKER_HOST", f"ssh://{dest}"),)
        reads = ((ctx.source_path(path), new),) if new is not None else ()
        step = Step((*command, *files, "up", "-d", "--force-recreate", "--no-deps", "--", *changed), env=env,
                    reads=reads)
        out.append(Unit(NAME, action, {path: new}, [step],
                          note=f"recreates {', '.join(changed)}; other services are not touched"))
    return out


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    """The compose command, per host with an override file, and where it runs."""
    hosts = sorted({p.split("/")[1] for p in files if p.count("/") == 2})
    command, _ = compose_settings(ctx.infra_data)
    chosen = ("global.compose.command",) if as_mapping(as_mapping(ctx.infra_data.get("global")).get("compose")).get(
        "command") else ()
    out = []
    for host in hosts:
        dest = ctx.ssh(host)
        out.append(Program(NAME, host, (shlex.join(command),),
                           f"on this machine with DOCKER_HOST=ssh://{dest}" if dest else "on this machine",
                           chosen + ((f"hosts.{host}.ssh",) if dest else ())))
    return out
