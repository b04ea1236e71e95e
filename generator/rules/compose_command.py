"""`global.compose.command` (and `hosts.<h>.compose.command`) is a command line: a program, then its words, quoted as a shell would.

`psot apply` runs this command (default `docker compose`) with the
override files and `up` appended, splitting it into words as a POSIX
shell does (`shlex`), but without a shell: no variable, pipe or
redirection is expanded. A quote left open cannot be split, a first word
starting with `-` is no program, and a control character or a newline
has no place in a command that `psot plan` shows for review.

Fix::

    Write the command as you would type it: `docker compose`,
    `podman-compose`, or `/usr/local/bin/docker compose`; close every quote.

Passing::

    project_name: lab
    global:
      compose: {command: podman-compose}
    domains: {}

Failing::

    project_name: lab
    global:
      compose: {command: 'docker "compose'}
    domains: {}

Finding::

    infra.yml:3:22: error[COMPOSE002] global.compose.command 'docker "compose' cannot be split into words: No closing quotation; close every quote
"""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Iterator

from generator.platforms.compose.base import projects
from generator.rules.base import Context, Problem
from generator.rules.incus_config_keys import shown

CODE = "COMPOSE002"
SEVERITY = "error"
STAGE = "model"


def words(command: str) -> list[str]:
    """The command's words, as apply runs them; ValueError when it cannot be split."""
    return shlex.split(command)


def problem(command: str) -> str | None:
    """Why `command` cannot be run as the compose command, or None when it can."""
    if any(unicodedata.category(c) == "Cc" for c in command):
        return "has a control character or a line break; write it on one line"
    try:
        split = words(command)
    except ValueError as exc:
        return f"cannot be split into words: {exc}; close every quote"
    if not split or not split[0]:
        return "has no program; write e.g. docker compose"
    if split[0].startswith("-"):
        return f"starts with '{split[0]}', an option, not a program; write the program first, e.g. docker compose"
    return None


def check(ctx: Context) -> Iterator[Problem]:
    command = ctx.infra.compose_command
    if command is not None:
        why = problem(command)
        if why is not None:
            yield Problem(f"global.compose.command '{shown(command)}' {why}", ("global", "compose", "command"))
    for project in projects(ctx.infra):
        path = project.settings.command_path
        why = problem(project.settings.command)
        if why is not None and path[:1] == ("hosts",):
            yield Problem(f"hosts.{project.host}.compose.command '{shown(project.settings.command)}' {why}", path)
