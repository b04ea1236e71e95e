"""The marks of a plan, as Terraform's: `+` added, `~` updated, `-` deleted, defined once.

The text plan (plan/changes.py), the Markdown plan (plan/markdown.py), an apply's units and its
`--status` (apply/engine.py, the views of cli/) mark each file or unit with its action's sign; the
Markdown plan also says the word; a terminal paints the sign in its colour (cli/colour.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    sign: str      # what every plan line starts with
    word: str      # what a file became, in the Markdown plan's summaries
    colour: str    # the sign's colour at a terminal


MARKS = {"add": Mark("+", "added", "green"), "update": Mark("~", "updated", "yellow"),
         "delete": Mark("-", "deleted", "red")}


def sign(action: str) -> str:
    """`+`, `~` or `-` for an action (add, update, delete)."""
    return MARKS[action].sign
