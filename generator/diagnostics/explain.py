"""`psot explain [CODE] [--format text|json]`: what a finding code means and how to fix it.

The text comes from the table of codes (generator/diagnostics/codes.py): the code's
severity and family, its one-line summary, the explanation, the fix, then a
failing and a passing example as a terminal transcript, with the exact
finding the failing one prints. Without CODE, every code with its summary.
Exit 0; an unknown code exits 1 and names the closest known ones.
"""

from __future__ import annotations

import json
import re

import click

from generator.diagnostics import codes
from generator.diagnostics.codes import Code, Example

WIDTH = 79
_WORDS = re.compile(r"(?:[^\s`]*`[^`]*`)+[^\s`]*|\S+")   # a word, with the code spans in it whole
EXIT_OK, EXIT_ERRORS = 0, 1


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


@click.command("explain")
@click.argument("code", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output for people (text) or machines (json).")
def explain(code: str | None, fmt: str) -> int:
    """Say what a finding code (GPU001, YAML002, ...) means and how to fix it; without CODE, list every code."""
    if code is None:
        if fmt == "json":
            click.echo(json.dumps({"codes": [e.to_dict() for e in codes.registry().values()]}, indent=2,
                                  ensure_ascii=False))
        else:
            click.echo(listing_text(), nl=False)
        return EXIT_OK
    entry = codes.lookup(code)
    if entry is not None:
        text = json.dumps(entry.to_dict(), indent=2, ensure_ascii=False) + "\n" if fmt == "json" else entry_text(entry)
        click.echo(text, nl=False)
        return EXIT_OK
    near = codes.closest(code)
    if fmt == "json":
        click.echo(json.dumps({"error": f"unknown code {code!r}", "did_you_mean": near}, indent=2))
    else:
        hint = f"did you mean {', '.join(near)}?" if near else "`psot explain` lists every code."
        click.echo(f"psot: unknown code {code!r}; {hint}", err=True)
    return EXIT_ERRORS
