"""Run units in order, stop at the first failure, record every step.

The applied state moves unit by unit: a unit whose commands all succeeded
is copied into `applied/` at once, and `last-apply.json` is rewritten
after every unit, so whatever kills an apply (a failing command, a stopped
daemon, Ctrl-C) leaves a record of what was applied and what was not.

A command is recorded as `started` before it runs, and its outcome after:
if psot cannot write the record once the command has run (a full disk),
the record on disk still says the command started, never "not run". An
OSError while writing the applied state or the record stops the apply as
a `StateError`, which says what had run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.apply.state import State
from generator.apply.units import Step, Unit
from generator.env_settings import SettingError, seconds
from generator.plan.marks import sign

STEP_TIMEOUT_ENV = "PSOT_APPLY_TIMEOUT"
STEP_TIMEOUT_DEFAULT_S = 900.0


class StateError(Exception):
    """psot could not write its applied state or its record (an OSError); the message says what had run."""


@dataclass
class StepResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


Runner = Callable[[Step, Path], StepResult]


def run_step(step: Step, cwd: Path) -> StepResult:
    """Run one command (no shell), its standard input from the step.

    A command that cannot be started is a failed step (127 not found, 126
    any other reason the system gives), as a shell would report it.
    """
    env = dict(os.environ)
    env.update(dict(step.env))
    try:
        timeout = seconds(STEP_TIMEOUT_ENV, STEP_TIMEOUT_DEFAULT_S)
    except SettingError as exc:       # the commands check it first; a query made before is a failed one
        return StepResult(2, "", str(exc))
    try:
        done = subprocess.run(list(step.argv), input=step.stdin if step.stdin is not None else b"", cwd=cwd,
                              env=env, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        return StepResult(127, "", f"{step.argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return StepResult(124, "", f"no answer after {timeout:.0f} s ({STEP_TIMEOUT_ENV})")
    except OSError as exc:
        return StepResult(126, "", f"{step.argv[0]}: cannot run it: {exc.strerror or exc}")
    return StepResult(done.returncode, done.stdout.decode("utf-8", "replace"),
                      done.stderr.decode("utf-8", "replace"))


def changed_on_disk(step: Step) -> str | None:
    """The first file the step reads from disk whose bytes are not the ones psot rendered, or None."""
    for path, expected in step.reads:
        try:
            with open(path, "rb") as fh:
                if fh.read() == expected:
                    continue
        except OSError:
            pass
        return path
    return None


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


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class _Recorder:
    """The record of one run, written after every change; an OSError becomes a StateError."""

    def __init__(self, state: State, record: dict) -> None:
        self.state = state
        self.record = record
        self.ran: list[str] = []         # commands that ran (or started), for the StateError's message

    def _failed(self, what: str, exc: OSError) -> StateError:
        ran = (f"these commands ran: {'; '.join(self.ran)}" if self.ran else "no command had run")
        return StateError(f"could not {what} in {self.state.root} ({exc.strerror or exc}): {ran}. Free the space "
                          f"(or fix the permission), then run `psot {self.record['kind']}` again: it resumes from "
                          f"what the record says")

    def write(self) -> None:
        try:
            self.state.write_record(self.record)
        except OSError as exc:
            raise self._failed("write the record " + self.state.record_path.name, exc) from None

    def applied(self, unit: Unit) -> None:
        try:
            for path, content in unit.files.items():
                self.state.record_file(path, content)
        except OSError as exc:
            raise self._failed(f"record {unit.label} as applied", exc) from None


def execute(units: list[Unit], state: State, cwd: Path, *, kind: str, tree_digest: str,
            echo: Callable[[str], None], runner: Runner = run_step) -> Outcome:
    """Apply `units` in order; the applied state and the record follow each unit.

    Raises StateError when the applied state or the record cannot be written.
    """
    record = {"psot": 1, "kind": kind, "status": "running", "tree": tree_digest, "started": _now(), "units": []}
    entries: list[dict[str, Any]] = [{"target": u.target, "action": u.action, "files": list(u.files),
                                      "status": "not run", "commands": []} for u in units]
    record["units"] = entries
    rec = _Recorder(state, record)
    rec.write()
    outcome = Outcome()
    for index, (unit, entry) in enumerate(zip(units, entries)):
        echo(f"{sign(unit.action)} {unit.label}")
        if unit.blocked:
            for step in unit.steps:
                echo(f"    by hand: {step.display()}")
            echo(f"    not applied: {unit.blocked}")
            entry["status"] = "blocked"
            entry["reason"] = unit.blocked
            outcome.blocked.append(unit)
            rec.write()
            continue
        failed = False
        for step in unit.steps:
            if step.manual:
                echo(f"    by hand: {step.display()}")
                entry["commands"].append({"command": step.display(), "manual": True})
                continue
            echo(f"    $ {step.display()}")
            changed = changed_on_disk(step)
            if changed is not None:
                reason = (f"{changed} is not what psot rendered (edited during the apply?); the command was not "
                          "run: run `psot sync`, review, then apply again")
                entry["commands"].append({"command": step.display(), "exit": None, "refused": reason})
                echo(f"    ! {reason}")
                failed = True
                break
            # Recorded as started before it runs: whatever happens next, the record never says "not run".
            done: dict[str, Any] = {"command": step.display(), "status": "started"}
            entry["commands"].append(done)
            entry["status"] = "running"
            rec.write()
            rec.ran.append(step.display())
            result = runner(step, cwd)
            done["exit"] = result.returncode
            done["status"] = "ran"
            if result.returncode != 0:
                done["stderr"] = _tail(result.stderr or result.stdout)
                for line in (done["stderr"] or f"exit status {result.returncode}").splitlines():
                    echo(f"    ! {line}")
                failed = True
                break
            rec.write()          # its outcome, before the unit is recorded as applied
        if unit.note:
            echo(f"    note: {unit.note}")
        if failed:
            entry["status"] = "failed"
            outcome.failed = unit
            outcome.not_run = units[index + 1:]
            record["status"] = "failed"
            record["finished"] = _now()
            rec.write()
            return outcome
        rec.applied(unit)
        entry["status"] = "applied"
        outcome.applied.append(unit)
        rec.write()
    record["status"] = "complete" if not outcome.blocked else "incomplete"
    record["finished"] = _now()
    rec.write()
    return outcome
