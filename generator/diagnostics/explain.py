"""What `psot explain` prints: what a finding code means and how to fix it (cli/explain.py is the command).

The text comes from the table of codes (generator/diagnostics/codes.py): the code's
severity and family, its one-line summary, the explanation, the fix, then a
failing and a passing example as a terminal transcript, with the exact
finding the failing one prints. Without CODE, every code with its summary.
"""

from __future__ import annotations

import re

from generator.diagnostics import codes
from generator.diagnostics.codes import Code, Example

WIDTH = 79
_WORDS = re.compile(r"(?:[^\s`]*`[^`]*`)+[^\s`]*|\S+")   # a word, with the code spans in it whole


def entry_text(entry: Code) -> str:
    lines = [f"{entry.code} ({entry.severity}, {entry.family}): {entry.summary}", ""]
    for paragraph in entry.explanation.split("\n\n"):
        lines += [*_wrap(paragraph), ""]
    fix = entry.fix.split("\n\n")
    lines += [*_wrap("Fix: " + fix[0]), ""]
    for paragraph in fix[1:]:
        lines += [*_wrap(paragraph), ""]
    for title, example in (("Fails:", entry.fails), ("Passes:", entry.passes)):
        if example is not None:
            lines += [title, "", *transcript(example), ""]
    return "\n".join(lines)


def _wrap(paragraph: str) -> list[str]:
    """`paragraph` in lines of at most WIDTH characters, never broken inside a `code span`
    (a command cut in two would read as two)."""
    lines: list[str] = []
    for word in _WORDS.findall(paragraph):
        if lines and len(lines[-1]) + 1 + len(word) <= WIDTH:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def transcript(example: Example) -> list[str]:
    """The example as a terminal shows it: each file `cat`, each command, the finding it prints."""
    lines = []
    for name, text in example.files:
        lines += [f"$ cat {name}", *text.splitlines()]
    lines += [f"$ {command}" for command in example.command.splitlines()]
    if example.finding:
        lines.append(example.finding)
    return [f"    {line}" if line else "" for line in lines]


def listing_text() -> str:
    entries = codes.registry().values()
    width = max(len(e.code) for e in entries)
    lines = [f"{e.code:<{width}}  {e.severity:<7}  {e.summary}" for e in entries]
    return "\n".join(lines) + f"\n\n{len(lines)} codes. `psot explain CODE` says what one means and how to fix it.\n"
