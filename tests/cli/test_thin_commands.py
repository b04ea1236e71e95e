"""The commands only parse, call, print (issue 14): every click command in generator/cli/ reads in under a
screen, and no module of generator/cli/ reaches into another module's private names.

The work (stages, services) lives outside cli/: generator/sync.py, placement/preview.py, plan/service.py,
apply/service.py and apply/saved_plan.py, detect/, starter.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

CLI = REPO / "generator" / "cli"
MODULES = sorted(CLI.glob("*.py"))
MAX_LINES = 40


def _is_command(decorator: ast.expr) -> bool:
    """`@click.command(...)`, `@click.group(...)`, `@cli.command()`: what makes a function a click command."""
    call = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(call, ast.Attribute) and call.attr in ("command", "group")


def commands(path: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in tree.body
            if isinstance(node, ast.FunctionDef) and any(_is_command(d) for d in node.decorator_list)]


def lines(function: ast.FunctionDef) -> int:
    """From `def` to its last line (the decorators, the options, are not the command's work)."""
    assert function.end_lineno is not None
    return function.end_lineno - function.lineno + 1


def _private(name: str) -> bool:
    """`_x` (not a dunder such as `__version__`, which is public)."""
    return name.startswith("_") and not name.startswith("__")


def private_uses(path: Path) -> list[str]:
    """`from m import _x`, and `m._x` on a module `m` imported here: names private to another module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and _private(node.attr)):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_the_cli_has_the_commands():
    names = {f.name for path in MODULES for f in commands(path)}
    assert {"cli", "validate", "place", "plan", "sync", "apply", "rollback", "detect", "init"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_command_reads_in_under_a_screen(path):
    long = {f.name: lines(f) for f in commands(path) if lines(f) > MAX_LINES}
    assert long == {}, f"commands longer than {MAX_LINES} lines: move the work into a service"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_private_name_of_another_module(path):
    assert private_uses(path) == []


def test_the_checks_see_what_they_look_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import click\nfrom generator import __version__\nfrom generator.plan import changes\n"
                      "from generator.x import _hidden\n\n@click.command()\ndef c() -> int:\n"
                      + "    x = 1\n" * MAX_LINES + "    return changes._consistent\n")
    [command] = commands(sample)
    assert lines(command) == MAX_LINES + 2
    assert private_uses(sample) == ["line 4: from generator.x import _hidden",
                                    f"line {MAX_LINES + 8}: changes._consistent"]
