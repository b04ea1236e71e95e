"""The toy platform's apply: `toyctl load -- <file>` per changed file, on this machine."""

from __future__ import annotations

from collections.abc import Mapping

from generator.apply.units import Change, Context, Program, Step, Unit, action_of
from tests.platforms.toy import NAME


def units(changes: list[Change], ctx: Context, desired: Mapping[str, bytes],
          applied: Mapping[str, bytes]) -> list[Unit]:
    return [Unit(NAME, action_of([(old, new)]), {path: new},
                 [Step(("toyctl", "load", "--", ctx.source_label(path)))] if new is not None else [])
            for path, old, new in changes]


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    return [Program(NAME, None, ("toyctl",), "on this machine")]
