"""COMPOSE002 (compose_command.py): `global.compose.command`, which apply runs, is a command line: a program,
then its words.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

import pytest

from tests.rules import helpers

findings = helpers.findings


COMPOSE = "project_name: lab\nglobal:\n  compose: {{command: {command}}}\ndomains: {{}}\n"


@pytest.mark.parametrize("command, shown, why", [
    ("'-v'", "-v", "starts with '-v', an option, not a program; write the program first, e.g. docker compose"),
    ("\"''\"", "''", "has no program; write e.g. docker compose"),
    ('"docker\\ncompose"', "docker\\x0acompose", "has a control character or a line break; write it on one line"),
    ("\"docker 'compose\"", "docker 'compose", "cannot be split into words: No closing quotation; close every quote"),
])
def test_a_compose_command_apply_could_not_run_is_refused_at_its_line(findings, command, shown, why):
    assert findings(COMPOSE.format(command=command), "COMPOSE002") == [
        f"infra.yml:3:22: error[COMPOSE002] global.compose.command '{shown}' {why}"]


@pytest.mark.parametrize("command", ["docker compose", "podman-compose", "/usr/local/bin/docker compose",
                                     "'/opt/my tools/compose' --ansi never"])
def test_compose_commands_that_split_pass(findings, command):
    assert findings(COMPOSE.format(command=f'"{command}"' if "'" in command else f"'{command}'"),
                    "COMPOSE002") == []
