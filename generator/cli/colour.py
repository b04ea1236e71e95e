"""Colour for people at a terminal: findings and plans painted as compilers and Terraform do.

Text is built without colour (the same text goes to files, JSON and tests) and painted only
as it is printed. click drops the styles when the stream is not a terminal, and the group
turns them off for `--no-color` and the NO_COLOR convention (https://no-color.org).
"""

from __future__ import annotations

import re

import click

from generator.plan.marks import MARKS

# A finding line: `file:line:col: error[CODE] message`.
_SEVERITY = re.compile(r"^(?P<where>[^\n]*?:\d+:\d+: )(?P<severity>error|warning)(?P<code>\[[A-Z]+\d+\])", re.M)
_MARK_COLOURS = {mark.sign: mark.colour for mark in MARKS.values()}
# A plan or apply line: `+ path`, `~ path`, `- path`, indented or not.
_MARK = re.compile(rf"^(?P<indent> *)(?P<mark>[{re.escape(''.join(_MARK_COLOURS))}]) (?P<rest>\S)", re.M)
_SUMMARY = re.compile(r"^(Plan: .*|No changes\..*)$", re.M)
_SEVERITY_COLOURS = {"error": "red", "warning": "yellow"}


def findings(text: str) -> str:
    """`error[GPU001]` in bold red, `warning[VRAM001]` in bold yellow."""
    return _SEVERITY.sub(lambda m: m["where"] + click.style(m["severity"] + m["code"],
                                                            fg=_SEVERITY_COLOURS[m["severity"]], bold=True), text)


def plan(text: str) -> str:
    """`+` green, `~` yellow, `-` red; the summary line in bold."""
    text = _MARK.sub(lambda m: m["indent"] + click.style(m["mark"], fg=_MARK_COLOURS[m["mark"]], bold=True)
                     + " " + m["rest"], text)
    return _SUMMARY.sub(lambda m: click.style(m[0], bold=True), text)


def turn_off(ctx: click.Context, _param: click.Parameter | None = None, value: bool = True) -> None:
    """The `--no-color` callback (and NO_COLOR): this command prints no colour."""
    if value:
        ctx.color = False
