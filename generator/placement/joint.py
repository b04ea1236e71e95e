"""`balanced`, step 2: every consumer of a group of GPUs placed jointly by the MIP of solver.py.

A group is a connected component of consumers and the GPUs they may use
(hosts and vendors usually separate them): groups share no GPU, so each is
solved on its own and a group HiGHS cannot solve keeps step 1's placement
without touching the others. A group is solved when its choices (consumer x
eligible GPU) are at most GROUP_MAX_CHOICES and the whole placement's
solved choices stay within TOTAL_MAX_CHOICES (the 1 s goal at 10 000
workloads); the other groups are left to balance.py's heuristic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.model.core import Consumer
from generator.placement import solver
from generator.placement.eligibility import linked

if TYPE_CHECKING:
    from generator.placement.core import _State

GROUP_MAX_CHOICES = 200
TOTAL_MAX_CHOICES = 1_000


@dataclass(frozen=True)
class GroupResult:
    """One group: its GPUs and consumers, and how it was placed."""
    gpus: tuple[str, ...]
    consumers: tuple[str, ...]
    method: str                     # "exact", "heuristic" (solver, gap left), or "left to the heuristic"
    answer: solver.Answer | None    # None: the solver did not place it


def groups(state: _State, movable: list[Consumer]) -> list[tuple[list[Consumer], list[str]]]:
    """The groups of `movable` (each sorted by name) with their GPU keys (sorted), in order of first GPU."""
    find, nodes = linked(movable, state.key_of, state.eligible, state.pinned)
    members: dict[str, tuple[list[Consumer], list[str]]] = {}
    for consumer in sorted(movable, key=lambda c: c.name):
        members.setdefault(find("c:" + consumer.name), ([], []))[0].append(consumer)
    for node in nodes:
        if node.startswith("g:") and find(node) in members:
            members[find(node)][1].append(node[2:])
    return sorted(members.values(), key=lambda m: (m[1][:1], m[0][0].name))


def optimise(state: _State, movable: list[Consumer]) -> list[GroupResult]:
    """Re-place each small group of `movable` (placed by step 1) jointly; the others keep step 1."""
    out = []
    spent = 0
    for members, keys in groups(state, movable):
        choices = sum(len(state.eligible(c)) for c in members)
        if not keys or choices > GROUP_MAX_CHOICES or spent + choices > TOTAL_MAX_CHOICES:
            out.append(GroupResult(tuple(keys), tuple(c.name for c in members), "left to the heuristic", None))
            continue
        spent += choices
        out.append(_solve(state, members, keys))
    return out


def _solve(state: _State, members: list[Consumer], keys: list[str]) -> GroupResult:
    before = {c.name: state.placed[c.name] for c in members}
    for consumer in members:
        state.unassign(consumer)
    open_keys = [k for k in keys if k not in state.alone_taken and state.infra.gpus[k].status != "unavailable"]
    index = {k: i for i, k in enumerate(open_keys)}
    gpus = [solver.Gpu(state.usable(state.infra.gpus[k]), state.used[k], len(state.on_gpu[k]),
                       state.infra.gpus[k].host) for k in open_keys]
    consumers = []
    for consumer in members:
        options = [g for g in state.eligible(consumer) if g.key in index]
        pin = state.pinned(consumer)
        home = state.previous.get(consumer.name) or before[consumer.name]
        consumers.append(solver.Consumer(tuple(index[g.key] for g in options),
                                         tuple(state.charge(consumer, g) for g in options), state.need(consumer),
                                         index.get(pin.key) if pin is not None else None, state.alone(consumer),
                                         tuple(index[k] for k in home if k in index)))
    answer = None
    exclusive = state.exclusive
    if all(c.pin is None or c.pin in c.options for c in consumers):
        if exclusive:
            answer = solver.solve(gpus, consumers, exclusive=True)
        if answer is None:
            exclusive = False
            answer = solver.solve(gpus, consumers, exclusive=False)
    names = tuple(c.name for c in members)
    if answer is None:
        for consumer in members:
            state.assign(consumer, before[consumer.name])
        return GroupResult(tuple(keys), names, "left to the heuristic", None)
    # Low churn: the previous placement stays when it is valid and as good (see solver.no_better).
    previous = [tuple(sorted(index[k] for k in state.previous.get(c.name, ()) if k in index)) for c in members]
    if previous != list(answer.choice) and all(len(p) == len(state.previous.get(c.name, ()))
                                               for p, c in zip(previous, members)):
        answer = solver.no_better(gpus, consumers, exclusive, answer, previous) or answer
    for consumer, chosen in zip(members, answer.choice):
        state.assign(consumer, [open_keys[g] for g in chosen])
    return GroupResult(tuple(keys), names, "exact" if answer.exact else "heuristic", answer)
