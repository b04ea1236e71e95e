"""The plan marks are one table (generator/plan/marks.py): the text plan, the Markdown plan, an apply's
lines and the terminal's colours all take the sign, word and colour of an action from it."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli import colour
from generator.plan.changes import Change, Plan
from generator.plan.marks import MARKS, sign


def test_the_marks_are_terraforms():
    assert {action: (m.sign, m.word, m.colour) for action, m in MARKS.items()} == {
        "add": ("+", "added", "green"), "update": ("~", "updated", "yellow"), "delete": ("-", "deleted", "red")}
    assert [sign(a) for a in ("add", "update", "delete")] == ["+", "~", "-"]


def test_the_text_plan_starts_each_file_with_its_sign_and_the_terminal_paints_it():
    plan = Plan(tuple(Change(f"{action}.yml", action) for action in MARKS), Path("generated"))
    lines = plan.to_text().splitlines()[:3]
    assert lines == ["+ add.yml", "~ update.yml", "- delete.yml"]
    painted = colour.plan("\n".join(lines))
    assert painted.splitlines() == [click.style(m.sign, fg=m.colour, bold=True) + f" {action}.yml"
                                    for action, m in MARKS.items()]
