"""What `psot switch` decides and does; the command (cli/switch.py) asks and prints.

The active mode is the one mode.json (generator/apply/state.py) says was
last switched to, else the base file. A switch compiles the active mode and
the one asked for, orders the transition (plan.py), and runs, as one apply
(apply/service.py `run_units`, recorded unit by unit in last-apply.json):
the stops, the moves, the units that apply the to-mode's files (the same
units `psot apply` would run for that tree, against the applied state),
then the starts. What runs is what `--dry-run` prints.

The to-mode's files are written to the state's `switch-tree/` before any
command runs: Compose's `-f` reads its override there (checked against the
rendered bytes just before it runs, as apply does).

Resumed: a switch that failed keeps `switching: {from, to}` in mode.json;
running it again compiles the same two modes, and skips the stops, moves and
starts the record shows as done (the files already applied are no longer
pending). Until it completes, a switch to any other mode is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import modes
from generator.apply import service as apply_service
from generator.apply import units as tg
from generator.apply.service import Refused, Result, Run, os_failure
from generator.apply.state import State
from generator.model.core import Infra
from generator.pipeline import Compilation, compile_infra
from generator.switch.plan import Problem, StepUnit, Transition, transition
from generator.workspace.writer import WriteError, locked


@dataclass(frozen=True)
class Mode:
    """A mode as the state records it: a name of `modes:` (None: the base file) and the GPUs taken away."""
    name: str | None
    without: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.name, "without": list(self.without)}

    @classmethod
    def of(cls, value: Any) -> Mode | None:
        if not isinstance(value, dict):
            return None
        name = value.get("mode")
        without = value.get("without")
        if not (name is None or isinstance(name, str)) or not isinstance(without, list):
            return None
        return cls(name, tuple(sorted(str(w) for w in without)))

    @property
    def text(self) -> str:
        base = f"mode '{self.name}'" if self.name is not None else "the base infra.yml"
        return base + (f" without {', '.join(self.without)}" if self.without else "")


@dataclass(frozen=True)
class AlreadyActive:
    """The mode asked for is the active one: nothing runs."""
    mode: Mode


@dataclass(frozen=True)
class Stopped:
    """A mode did not compile, or a move is refused (SWITCH00x): its findings are in `result.diag`."""
    result: Compilation


SwitchResult = Result | AlreadyActive | Stopped


def active_mode(state: State, infra: Infra) -> Mode:
    """The mode last switched to (mode.json), else `global.mode`, else the base file."""
    return Mode.of((state.read_mode() or {}).get("active")) or Mode(modes.active_mode(infra))


def target_mode(source: Path, name: str | None, without: tuple[str, ...], output_dir: Path | None) -> Mode | Stopped:
    """The mode `psot switch [NAME] [--without GPU…]` asks for: NAME (default: the active mode) without the GPUs
    named (with no NAME, those the active mode is without too), each resolved to `host/gpu` (REF005), and NAME
    checked (MODE001)."""
    probe = compile_infra(source, output_dir=output_dir, until="place", without=without, mode=name)
    if not probe.ok:
        return Stopped(probe)
    active = active_mode(State(probe.output_dir), probe.need_infra())
    if name is None:
        return Mode(active.name, tuple(sorted(set(active.without) | set(probe.without))))
    return Mode(name, tuple(sorted(probe.without)))


def pending_switch(state: State) -> tuple[Mode, Mode] | None:
    """(from, to) of a switch that started and did not complete."""
    switching = (state.read_mode() or {}).get("switching")
    if not isinstance(switching, dict):
        return None
    start, end = Mode.of(switching.get("from")), Mode.of(switching.get("to"))
    return (start, end) if start is not None and end is not None else None


def compile_mode(source: Path, mode: Mode, output_dir: Path | None) -> Compilation:
    return compile_infra(source, output_dir=output_dir, without=mode.without, mode=mode.name)


def _done(record: dict[str, Any], switching: dict[str, Any]) -> list[list[str]]:
    """The commands of every step (no file) a switch under way completed: those of the runs before the last
    (mode.json keeps them) and those its record shows (last-apply.json)."""
    done = [[str(c) for c in u] for u in switching.get("done", []) if isinstance(u, list)]
    if record.get("kind") == "switch":
        done += [[str(c.get("command")) for c in u.get("commands", [])] for u in record.get("units", [])
                 if u.get("status") == "applied" and not u.get("files")]
    return [list(u) for u in dict.fromkeys(tuple(u) for u in done)]


def _not_done(units: list[StepUnit], done: list[list[str]]) -> list[StepUnit]:
    return [unit for unit in units if [s.display() for s in unit.steps] not in done]


def _problems(result: Compilation, problems: list[Problem]) -> None:
    for problem in problems:
        result.diag.error(problem.code, problem.message, problem.path)


def units_of(steps: Transition, files: list[tg.Unit]) -> list[tg.Unit]:
    """Stops, moves, the to-mode's files, starts: the order they run in."""
    return [*steps.stops, *steps.moves, *files, *steps.starts]


def switch(source: Path, target: Mode, output_dir: Path | None, run: Run) -> SwitchResult:
    """Switch the machines from the active mode to `target`."""
    probe = compile_infra(source, output_dir=output_dir, until="validate")
    if not probe.ok:
        return Stopped(probe)
    state = State(probe.output_dir)
    pending = pending_switch(state)
    if pending is not None and pending[1] != target:
        return Refused(f"the switch from {pending[0].text} to {pending[1].text} did not complete: run it again to "
                       f"finish it (it resumes from the step that failed), then switch to {target.text}",
                       ending="; nothing was run.")
    start = pending[0] if pending is not None else active_mode(state, probe.need_infra())
    if pending is None and start == target:
        return AlreadyActive(target)
    before, after = compile_mode(source, start, output_dir), compile_mode(source, target, output_dir)
    for compiled in (before, after):
        if not compiled.ok:
            return Stopped(compiled)
    try:
        with locked(after.output_dir):
            ctx = apply_service.context(after, state.switch_tree_dir, False)
            mode = state.read_mode() or {}
            cards = mode.get("cards")
            known = {str(k): str(v) for k, v in cards.items()} if isinstance(cards, dict) else {}
            steps = transition((before.need_infra(), before.need_placement()),
                               (after.need_infra(), after.need_placement()), ctx, known)
            sides = steps.sides
            if steps.problems:
                _problems(after, steps.problems)
                return Stopped(after)
            desired = dict(after.need_tree())
            files = tg.units(desired, state.applied(), ctx)
            if pending is not None:
                done = _done(state.read_record() or {}, mode.get("switching") or {})
                steps = Transition(_not_done(steps.stops, done), _not_done(steps.moves, done),
                                   _not_done(steps.starts, done), sides=steps.sides)
            units = units_of(steps, files)
            if not run.dry_run and units and not ctx.refusals:
                state.keep_switch_tree(desired)
            outcome = apply_service.run_units(units, after, state, _marking(run, state, mode, start, target),
                                              kind="switch", desired=desired, ctx=ctx)
            if run.dry_run:
                return outcome
            if isinstance(outcome, apply_service.Nothing) or (
                    isinstance(outcome, apply_service.Ran) and outcome.outcome.ok):
                state.write_mode({"psot": 1, "active": target.to_dict(), "previous": start.to_dict(),
                                  "cards": dict(sorted({**known, **sides}.items()))})
            elif isinstance(outcome, apply_service.Ran):
                # Failed: what this run did is kept, for the run that finishes it.
                switching = {"from": start.to_dict(), "to": target.to_dict(),
                             "done": _done(outcome.record, (mode.get("switching") or {}) if pending else {})}
                state.write_mode({**mode, "psot": 1, "switching": switching})
            elif state.mode_path.exists():
                state.write_mode(mode)        # nothing ran: no switch is under way
            return outcome
    except WriteError as exc:
        return apply_service.Failed(str(exc))
    except OSError as exc:
        return os_failure(exc)


def _marking(run: Run, state: State, mode: dict, start: Mode, target: Mode) -> Run:
    """`run`, whose confirmation, once given, records the switch as under way before any command runs."""
    def confirm(kind: str, units: list[tg.Unit]) -> bool:
        if run.confirm is not None and not run.confirm(kind, units):
            return False
        if not run.dry_run:
            state.write_mode({**mode, "psot": 1, "switching": {"from": start.to_dict(), "to": target.to_dict()}})
        return True
    return Run(dry_run=run.dry_run, confirm=confirm, progress=run.progress)
