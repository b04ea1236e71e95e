"""Run units in order, stop at the first failure, record every step.

The applied state moves unit by unit: a unit whose commands all succeeded
is copied into `applied/` at once, and `last-apply.json` is rewritten
after every unit, so whatever kills an apply (a failing command, a stopped
daemon, Ctrl-C) leaves a record of what was applied and what was not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from generator.apply.state import State
from generator.apply.targets import Step, Unit

STEP_TIMEOUT_S = float(os.environ.get("PSOT_APPLY_TIMEOUT", "900"))
MARKS = {"add": "+", "update": "~", "delete": "-"}


@dataclass
class StepResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


Runner = Callable[[Step, Path], StepResult]


def run_step(step: Step, cwd: Path) -> StepResult:
    """Run one command (no shell), its standard input from the step."""
    env = dict(os.environ)
    env.update(dict(step.env))
    try:
        done = subprocess.run(list(step.argv), input=step.stdin if step.stdin is not None else b"", cwd=cwd,
                              env=env, capture_output=True, timeout=STEP_TIMEOUT_S)
    except FileNotFoundError:
        return StepResult(127, "", f"{step.argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return StepResult(124, "", f"no answer after {STEP_TIMEOUT_S:.0f} s (PSOT_APPLY_TIMEOUT)")
    return StepResult(done.returncode, done.stdout.decode("utf-8", "replace"),
                      done.stderr.decode("utf-8", "replace"))


def query_with(runner: Runner, cwd: Path) -> Callable[[tuple[str, ...]], str | None]:
    """A read-only question to a platform CLI: its output, or None when it cannot be asked."""
    def query(argv: tuple[str, ...]) -> str | None:
        if shutil.which(argv[0]) is None:
            return None
        result = runner(Step(argv), cwd)
        return result.stdout if result.returncode == 0 else None
    return query


def missing_tools(units: list[Unit]) -> dict[str, list[str]]:
    """Commands the units need that are not on PATH -> the files that need them."""
    out: dict[str, list[str]] = {}
    for unit in units:
        if unit.blocked:
            continue
        for step in unit.steps:
            if not step.manual and shutil.which(step.argv[0]) is None:
                out.setdefault(step.argv[0], []).append(unit.label)
    return out


@dataclass
class Outcome:
    applied: list[Unit] = field(default_factory=list)
    failed: Unit | None = None
    blocked: list[Unit] = field(default_factory=list)
    not_run: list[Unit] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed is None


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def execute(units: list[Unit], state: State, cwd: Path, *, kind: str, tree_digest: str,
            echo: Callable[[str], None], runner: Runner = run_step) -> Outcome:
    """Apply `units` in order; the applied state and the record follow each unit."""
    record = {"psot": 1, "kind": kind, "status": "running", "tree": tree_digest,
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "units": []}
    entries = [{"target": u.target, "action": u.action, "files": list(u.files), "status": "not run",
                "commands": []} for u in units]
    record["units"] = entries
    state.write_record(record)
    outcome = Outcome()
    for index, (unit, entry) in enumerate(zip(units, entries)):
        echo(f"{MARKS[unit.action]} {unit.label}")
        if unit.blocked:
            for step in unit.steps:
                echo(f"    by hand: {step.display()}")
            echo(f"    not applied: {unit.blocked}")
            entry["status"] = "blocked"
            entry["reason"] = unit.blocked
            outcome.blocked.append(unit)
            state.write_record(record)
            continue
        failed = False
        for step in unit.steps:
            if step.manual:
                echo(f"    by hand: {step.display()}")
                entry["commands"].append({"command": step.display(), "manual": True})
                continue
            echo(f"    $ {step.display()}")
            result = runner(step, cwd)
            done = {"command": step.display(), "exit": result.returncode}
            if result.returncode != 0:
                done["stderr"] = _tail(result.stderr or result.stdout)
                entry["commands"].append(done)
                for line in (done["stderr"] or f"exit status {result.returncode}").splitlines():
                    echo(f"    ! {line}")
                failed = True
                break
            entry["commands"].append(done)
        if unit.note:
            echo(f"    note: {unit.note}")
        if failed:
            entry["status"] = "failed"
            outcome.failed = unit
            outcome.not_run = units[index + 1:]
            record["status"] = "failed"
            record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            state.write_record(record)
            return outcome
        for path, content in unit.files.items():
            state.record_file(path, content)
        entry["status"] = "applied"
        outcome.applied.append(unit)
        state.write_record(record)
    record["status"] = "complete" if not outcome.blocked else "incomplete"
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    state.write_record(record)
    return outcome
