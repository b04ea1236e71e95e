"""Place stage: which GPU(s) every consumer gets, its VRAM budget, its fallbacks.

A pure function of the model: the same Infra gives the same Placement on
every run and machine (consumers and GPUs are visited in a fixed order and
every tie is broken by name).

The five strategies of SPEC §4 share one frame:

1. pinned consumers go to their pin (a pin to an unavailable GPU falls back);
2. passthrough consumers take a whole, empty GPU each, the largest first;
3. the rest are placed by the strategy: an order of consumers and a ranking
   of GPUs (`vram_based`, `latency_optimized`, `isolation_first`), or an
   optimiser (`balanced`: HiGHS per group of GPUs, joint.py and solver.py, else
   balance.py); `manual` places nothing more.

Ranked strategies search depth first (a loop, not recursion), consumer by
consumer, taking GPUs in rank order and only where the consumer fits: the
first complete assignment is the greedy one whenever the greedy one fits,
and a backtracked one when it would not. Under `exclusive` the search first
looks for one consumer per GPU; under `isolation_first` it first keeps every
`isolate` consumer alone, then lets it share rather than overflow (PLACE007).
When nothing fits (or the search runs out of WORK_BUDGET), the greedy choice
is taken anyway and the rules warn (seed 001: warn but allow).

A consumer's GPUs are all on one host (a Kubernetes pod runs on one node, an
Incus instance on one host): `count` GPUs of one host, or as many as the
best host has (PLACE006 says so).

Low churn: given the previous placement (placement.yml of the same
strategy), a consumer's previous GPU, where it still fits, wins over more free
VRAM, never over status, exclusivity or speed (see the score functions); one
edited consumer moves nobody else. `balanced` breaks ties towards the previous
placement (see _balanced). A second sync of an unchanged input gives
the same placement: each consumer fits on its previous GPU again.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from generator.diagnostics.findings import Diagnostics, Finding
from generator.model.core import Consumer, Gpu, Infra
from generator.placement import balance, joint, solver
from generator.placement.eligibility import eligibility_key, eligible, linked, status, why_none

WORK_BUDGET = 2_000_000           # GPUs the search may examine for a whole placement
GROUP_WORK_MIN = 20_000            # ... and for one group of consumers that can share GPUs
GROUP_WORK_PER_CONSUMER = 20       # ... per consumer and GPU of the group
MEMO_GPUS = 64                     # GPUs of a group up to which the search remembers its failures (_Memo)
FALLBACK_MAX = 8                   # fallback GPUs listed per consumer
BALANCE_MAX_OPTIONS = 500_000      # consumer x GPU choices beyond which balanced keeps its first step
# What balanced minimises, in the terms the JSON and the table show: a GPU's load is used_gb over its usable
# VRAM (capacity_gb less the headroom), as in max_load_pct/min_load_pct (solver.py says why this sum).
BALANCE_OBJECTIVE = ("make the GPUs as equally loaded as possible: in each group of GPUs that share consumers, "
                     "the least sum over its GPUs of |used / usable VRAM (capacity_gb - headroom_gb) - a common "
                     "level|, then the least variance, never over capacity to do so; variance and lower_bound "
                     "are of used / usable VRAM across the GPUs it balances")


def fmt_gb(value: float) -> str:
    """6.8 -> '6.8', 4.0 -> '4', 23.549999 -> '23.55'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def number(value: float) -> int | float:
    """A number as it is written out: integral values without '.0', no float noise."""
    value = round(value, 3)
    return int(value) if value == int(value) else value


@dataclass(frozen=True)
class Assignment:
    gpus: tuple[str, ...]
    vram_gb: float
    budget_gb: float | None
    fallback: tuple[str, ...]


@dataclass(frozen=True)
class GpuUse:
    capacity_gb: float
    used_gb: float
    consumers: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class GroupReport:
    """One group of GPUs that share consumers, as `balanced` placed it (see joint.py): `exact` or
    `heuristic` (HiGHS stopped at its node limit) with the deviation it reached and HiGHS's bound, or
    `left to the heuristic` (too large, or HiGHS found no placement) without them."""
    gpus: tuple[str, ...]
    method: str
    deviation: float | None
    bound: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"gpus": list(self.gpus), "method": self.method,
                **({"deviation": round(self.deviation, 6), "bound": round(self.bound, 6)}
                   if self.deviation is not None and self.bound is not None else {})}


@dataclass(frozen=True)
class BalanceReport:
    """How good `balanced`'s answer is: its variance of utilisation and a lower bound on any answer's,
    and for people the spread of the loads it balanced (utilisation: used / usable VRAM)."""
    method: str            # "exact" (every group proven by HiGHS), "heuristic", or "heuristic, over capacity"
    variance: float
    lower_bound: float
    max_load: float = 0.0  # the highest and lowest utilisation among the GPUs it balanced
    min_load: float = 0.0
    groups: tuple[GroupReport, ...] = ()

    @property
    def gap(self) -> float:
        return max(self.variance - self.lower_bound, 0.0)

    @property
    def narrower_by(self) -> int:
        """At most how many points narrower (max - min, in % of usable VRAM) the best placement's spread is.

        Loads whose spread is R have a variance of at most (R/2)^2, so the best placement, whose variance
        is at least the lower bound, has a spread of at least 2 * sqrt(lower bound). Rounded up: "up to".
        """
        spread = self.max_load - self.min_load
        return max(math.ceil(100 * (spread - 2 * math.sqrt(self.lower_bound)) - 1e-6), 0)

    def summary(self) -> str:
        """`GPU load spread: max 91%, min 87% of usable VRAM; best possible found`."""
        spread = (f"GPU load spread: max {round(100 * self.max_load)}%, min {round(100 * self.min_load)}% "
                  "of usable VRAM")
        if self.method == "exact":
            return f"{spread}; the least deviation from a common load possible (proven by HiGHS)"
        if self.method == "heuristic":
            points = self.narrower_by
            if points == 0:
                return f"{spread}; best found within the search limit, and no placement narrows the spread"
            return (f"{spread}; best found within the search limit: the best possible could be up to {points} "
                    f"point{'s' if points != 1 else ''} narrower")
        return f"{spread}; nothing fits within capacity: the overflow is spread as evenly as the search found"


@dataclass(frozen=True)
class Placement:
    strategy: str
    assignments: dict[str, Assignment]
    gpus: dict[str, GpuUse]
    unplaced: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=())
    balance: BalanceReport | None = None

    def to_dict(self, with_locations: bool = True) -> dict:
        """SPEC §6's JSON shape (also the content of placement.yml).

        placement.yml leaves out file/line/column of findings
        (`with_locations=False`): an unrelated edit that moves lines in
        infra.yml must not show up as a change of the generated tree.
        """
        if with_locations:
            findings = [f.to_dict() for f in self.findings]
        else:
            findings = [{"code": f.code, "severity": f.severity, "message": f.message, "path": f.path}
                        for f in sorted(self.findings, key=lambda f: (f.path, f.code, f.message))]
        return {
            "strategy": self.strategy,
            "assignments": {
                name: {
                    "gpus": list(a.gpus),
                    "vram_gb": number(a.vram_gb),
                    "budget_gb": None if a.budget_gb is None else number(a.budget_gb),
                    "fallback": list(a.fallback),
                }
                for name, a in self.assignments.items()
            },
            "gpus": {
                key: {
                    "capacity_gb": number(u.capacity_gb),
                    "used_gb": number(u.used_gb),
                    "consumers": list(u.consumers),
                    "status": u.status,
                }
                for key, u in self.gpus.items()
            },
            "unplaced": list(self.unplaced),
            "findings": findings,
            **({"balance": {"objective": BALANCE_OBJECTIVE,
                            "method": self.balance.method, "variance": round(self.balance.variance, 6),
                            "lower_bound": round(self.balance.lower_bound, 6),
                            "gap": round(self.balance.gap, 6),
                            "max_load_pct": number(100 * self.balance.max_load),
                            "min_load_pct": number(100 * self.balance.min_load),
                            "summary": self.balance.summary(),
                            "groups": [g.to_dict() for g in self.balance.groups]}} if self.balance else {}),
        }


class _State:
    """Mutable bookkeeping while one strategy runs.

    GPUs eligible for a consumer are computed once per eligibility key (eligibility.eligibility_key)
    and, per key and score function, kept in a heap of (score, GPU key) entries: the best GPU for a
    consumer is the heap's top (`best`), not a scan of every GPU, so 10 000 consumers without a
    `host` over 1 000 GPUs cost about consumers x log GPUs. An entry is stale once its GPU's load
    changed (its version is no longer the GPU's): a fresh one is pushed when the heap is next read, and
    stale ones are dropped when they come up.
    """

    def __init__(self, infra: Infra, previous: Mapping[str, tuple[str, ...]], strategy: Strategy):
        self.infra = infra
        self.strategy = strategy
        self.headroom = infra.headroom_gb
        self.exclusive = infra.gpu_policy == "exclusive"
        self.previous = previous
        self.isolate_hard = True               # isolating strategies: `isolate` consumers own a GPU (see alone)
        self._isolated = [c for c in infra.consumers.values() if strategy.isolates(c) and not c.request.passthrough]
        self._isolated_names = {c.name for c in infra.consumers.values() if strategy.isolates(c)}
        self.used = {k: 0.0 for k in infra.gpus}
        self.on_gpu: dict[str, list[str]] = {k: [] for k in infra.gpus}
        self.latency_on = {k: 0 for k in infra.gpus}   # latency-critical consumers on each GPU
        self.alone_taken: set[str] = set()     # GPUs a consumer has to itself (see `alone`)
        self.budget = WORK_BUDGET              # search work left (see _search)
        self.placed: dict[str, tuple[str, ...]] = {}
        # Why a consumer got no GPU, while it has none: reported once placement is over (see _report).
        self.no_gpu: dict[str, str] = {}
        self.pin_lost: dict[str, str] = {}     # consumer -> the unavailable GPU it is pinned to
        self._eligible: dict[tuple, list[Gpu]] = {}
        self._eligible_keys: dict[tuple, set[str]] = {}
        self._most: dict[tuple, tuple[int, str | None]] = {}
        self._need: dict[str, int] = {}
        self._key_of: dict[str, tuple] = {}
        # (eligibility key, passthrough, score) -> heap of score + (GPU key, version)
        self._heaps: dict[tuple, list[tuple]] = {}
        self._heaps_of: dict[str, list[tuple]] = {k: [] for k in infra.gpus}
        self._version = {k: 0 for k in infra.gpus}          # bumped whenever a GPU's load changes
        self._dirty: dict[tuple, set[str]] = {}              # per heap: GPUs changed since it was last read
        self._usable = {k: max(g.vram_gb - self.headroom, 0.0) for k, g in infra.gpus.items()}

    def key_of(self, consumer: Consumer) -> tuple:
        """The consumer's eligibility key (eligibility.eligibility_key), built once per consumer."""
        key = self._key_of.get(consumer.name)
        if key is None:
            key = self._key_of[consumer.name] = eligibility_key(consumer)
        return key

    def eligible(self, consumer: Consumer) -> list[Gpu]:
        key = self.key_of(consumer)
        if key not in self._eligible:
            self._eligible[key] = eligible(consumer, self.infra)
            self._eligible_keys[key] = {g.key for g in self._eligible[key]}
        return self._eligible[key]

    def may_use(self, consumer: Consumer, key: str) -> bool:
        """Whether the GPU `key` is eligible for the consumer."""
        self.eligible(consumer)
        return key in self._eligible_keys[self.key_of(consumer)]

    def wanted(self, consumer: Consumer) -> int:
        """GPUs the consumer asks for: its `count`, or with `count: all` every GPU eligible for it.

        Eligible GPUs are those of its one host (rule FIT004 holds `all` to a consumer with one host),
        whatever their status but unavailable: a GPU `--without` takes away is no longer asked for.
        """
        if consumer.request.count_all:
            return max(len(self.eligible(consumer)), 1)
        return consumer.request.count

    def most_on_one_host(self, consumer: Consumer) -> tuple[int, str | None]:
        """The most eligible GPUs one host has for the consumer (its pin's host when pinned), and that host."""
        pin = self.pinned(consumer)
        cache_key = (self.key_of(consumer), pin.key if pin is not None else None)
        if cache_key not in self._most:
            self._most[cache_key] = self._most_on_one_host(consumer, pin)
        return self._most[cache_key]

    def _most_on_one_host(self, consumer: Consumer, pin: Gpu | None) -> tuple[int, str | None]:
        per_host: dict[str, int] = {}
        for gpu in self.eligible(consumer):
            if pin is None or gpu.host == pin.host:
                per_host[gpu.host] = per_host.get(gpu.host, 0) + 1
        if pin is not None:
            per_host[pin.host] = max(per_host.get(pin.host, 0), 1)
        if not per_host:
            return 0, None
        host = min(per_host, key=lambda h: (-per_host[h], h))
        return per_host[host], host

    def need(self, consumer: Consumer) -> int:
        """GPUs placement gives the consumer: what it wants, at most what one host has (all on one host).

        Fixed for the whole placement (it reads the eligible GPUs and the pin only): kept per consumer."""
        need = self._need.get(consumer.name)
        if need is None:
            need = self._need[consumer.name] = max(min(self.wanted(consumer), self.most_on_one_host(consumer)[0]), 1)
        return need

    def pinned(self, consumer: Consumer) -> Gpu | None:
        """Its pinned GPU while that GPU is available to it."""
        pin = self.infra.gpus.get(consumer.request.pin_gpu) if consumer.request.pin_gpu else None
        return pin if pin is not None and status(consumer, pin) != "unavailable" else None

    def usable(self, gpu: Gpu) -> float:
        """What a consumer may use on `gpu`: its VRAM less the headroom kept free."""
        return self._usable[gpu.key]

    def charge(self, consumer: Consumer, gpu: Gpu) -> float:
        """VRAM the consumer takes on `gpu`; a budgeted service shrinks to fit the GPU.

        A budget without `vram_gb` (or a model's) is charged the budget: that is what the service is told
        it may use."""
        request = consumer.request
        if request.budget is not None:
            wants = request.vram_gb if request.vram_gb > 0 else request.budget.gb
            return min(wants, request.budget.gb, self.usable(gpu))
        return request.vram_gb

    def free(self, key: str) -> float:
        return self._usable[key] - self.used[key]

    def fits(self, consumer: Consumer, gpu: Gpu) -> bool:
        request = consumer.request
        key = gpu.key
        if request.budget is None:
            return request.vram_gb <= self._usable[key] - self.used[key] + 1e-9
        return self.charge(consumer, gpu) <= self._usable[key] - self.used[key] + 1e-9

    def occupied(self, key: str) -> bool:
        return bool(self.on_gpu[key])

    def alone(self, consumer: Consumer) -> bool:
        """Consumers that own their GPU: passthrough VMs, and those the strategy isolates."""
        return consumer.request.passthrough or (self.isolate_hard and consumer.name in self._isolated_names)

    def isolate(self, hard: bool) -> None:
        """Whether `isolate` consumers own their GPU from now on, those already placed (pins) too: the GPUs
        owned are counted again, and those no longer owned offered again."""
        if hard == self.isolate_hard:
            return
        self.isolate_hard = hard
        for consumer in self._isolated:
            for key in self.placed.get(consumer.name, ()):
                if hard:
                    self.alone_taken.add(key)
                elif key in self.alone_taken:
                    self.alone_taken.discard(key)
                    self._touched(key)

    def was_on(self, consumer: Consumer, key: str) -> bool:
        return key in self.previous.get(consumer.name, ())

    def assign(self, consumer: Consumer, keys: Iterable[str]) -> None:
        keys = sorted(keys)   # a machine's GPUs in one order on every sync, whatever order they were chosen in
        alone = self.alone(consumer)
        latency = consumer.request.latency_critical
        for key in keys:
            self.used[key] += self.charge(consumer, self.infra.gpus[key])
            self.on_gpu[key].append(consumer.name)
            self.latency_on[key] += latency
            if alone:
                self.alone_taken.add(key)
            self._touched(key)
        self.placed[consumer.name] = tuple(keys)
        self.no_gpu.pop(consumer.name, None)

    def unassign(self, consumer: Consumer) -> None:
        alone = self.alone(consumer)
        latency = consumer.request.latency_critical
        for key in self.placed.pop(consumer.name, ()):
            self.used[key] -= self.charge(consumer, self.infra.gpus[key])
            self.on_gpu[key].remove(consumer.name)
            self.latency_on[key] -= latency
            if alone:
                self.alone_taken.discard(key)
            self._touched(key)

    def _touched(self, key: str) -> None:
        self._version[key] += 1
        for heap_key in self._heaps_of[key]:
            self._dirty[heap_key].add(key)

    def best(self, consumer: Consumer, score: Score, no_share: bool) -> str | None:
        """The GPU `_candidates` would put first for a consumer that owns no GPU and wants one, or None
        when the heap's top does not settle it (it does not fit there: budgets make fitting
        non-monotonic in free VRAM, so the caller scans)."""
        passthrough = consumer.request.passthrough
        heap_key = (self.key_of(consumer), passthrough, score)
        heap = self._heaps.get(heap_key)
        version = self._version
        gpus = self.infra.gpus
        if heap is None:
            heap = [score(self, passthrough, g) + (g.key, version[g.key]) for g in self.eligible(consumer)]
            heapq.heapify(heap)
            self._heaps[heap_key] = heap
            self._dirty[heap_key] = set()
            for gpu in self.eligible(consumer):
                self._heaps_of[gpu.key].append(heap_key)
        else:
            # Fresh entries for the GPUs changed since this heap was last read; the older ones are stale.
            dirty = self._dirty[heap_key]
            for key in dirty:
                heapq.heappush(heap, score(self, passthrough, gpus[key]) + (key, version[key]))
            dirty.clear()
        while heap:
            top = heap[0]
            gpu = gpus[top[-2]]
            if top[-2] in self.alone_taken or top[-1] != version[top[-2]]:
                heapq.heappop(heap)
                continue
            if (no_share and self.occupied(gpu.key)) or not self.fits(consumer, gpu):
                return None
            # Low churn: its previous GPU when it fits and scores the same but for free VRAM (see _ranked).
            for key in sorted(self.previous.get(consumer.name, ())):
                other = self.infra.gpus.get(key)
                if (other is not None and key not in self.alone_taken and self.may_use(consumer, key)
                        and score(self, passthrough, other)[:-1] == top[:-3] and self.fits(consumer, other)
                        and not (no_share and self.occupied(key))):
                    return key
            return gpu.key
        return None


def _cc(text: str | None) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(".")) if text else ()


def speed(gpu: Gpu) -> float:
    """`speed` as given, else 10 x compute capability + VRAM / 4 (so 8.6 with 24 GB gives 92).

    GPUs without a compute capability (AMD, Intel) get VRAM / 4 only: give
    them a `speed` when latency_optimized must compare vendors.
    """
    if gpu.speed is not None:
        return gpu.speed
    cc = _cc(gpu.compute_capability)
    base = 10 * (cc[0] + cc[1] / 10) if len(cc) == 2 else 0.0
    return base + gpu.vram_gb / 4


# Score functions: lower is better. They see of the consumer only whether it is a passthrough VM (its
# GPU status), so one heap serves every consumer of an eligibility key. Each ends with the room it
# compares (free VRAM, or VRAM): the consumer's previous GPU comes before that last term (low churn,
# see _ranked), and ties go by GPU key. Free VRAM is rounded so that float noise from the order loads
# were added in never breaks a tie differently. Of a GPU they may read only what _Memo keys a state by
# (used VRAM, occupancy, latency-critical consumers, ownership) besides the GPU itself.
Score = Callable[["_State", bool, Gpu], tuple]


def _degraded(passthrough: bool, gpu: Gpu) -> bool:
    return (gpu.declared_status if passthrough else gpu.status) == "degraded"


def _occupied_first(state: _State, gpu: Gpu) -> bool:
    """Under `exclusive` a GPU nobody uses beats any shared one: sharing breaks the policy."""
    return state.exclusive and state.occupied(gpu.key)


def score_vram(state: _State, passthrough: bool, gpu: Gpu) -> tuple:
    """vram_based: `ok` before `degraded`, then the most free VRAM."""
    return (_occupied_first(state, gpu), _degraded(passthrough, gpu), -round(state.free(gpu.key), 6))


def score_fastest(state: _State, passthrough: bool, gpu: Gpu) -> tuple:
    """latency_optimized, latency-critical consumers: the fastest GPU."""
    return (_occupied_first(state, gpu), _degraded(passthrough, gpu), -speed(gpu), -round(state.free(gpu.key), 6))


def score_spread(state: _State, passthrough: bool, gpu: Gpu) -> tuple:
    """latency_optimized, the rest: GPUs of no latency-critical consumer first, then by free VRAM."""
    latency = state.latency_on[gpu.key] > 0
    return (_occupied_first(state, gpu), _degraded(passthrough, gpu), latency, -round(state.free(gpu.key), 6))


def score_largest(state: _State, passthrough: bool, gpu: Gpu) -> tuple:
    """Consumers that own their GPU (passthrough, `isolate`): the largest free GPU."""
    return (_degraded(passthrough, gpu), -gpu.vram_gb)


def _options(state: _State, consumer: Consumer) -> list[Gpu]:
    """GPUs the consumer may take now: eligible, not owned by another consumer, empty if it must own one."""
    alone = state.alone(consumer)
    return [g for g in state.eligible(consumer)
            if g.key not in state.alone_taken and not (alone and state.occupied(g.key))]


def _ranked(state: _State, consumer: Consumer, score: Score, gpus: list[Gpu]) -> list[Gpu]:
    passthrough = consumer.request.passthrough
    def rank(gpu: Gpu) -> tuple:
        scored = score(state, passthrough, gpu)
        return scored[:-1] + (not state.was_on(consumer, gpu.key),) + scored[-1:] + (gpu.key,)

    return sorted(gpus, key=rank)


def _sets(state: _State, consumer: Consumer, ranked: list[Gpu]) -> list[tuple[str, ...]]:
    """The GPU sets to try for the consumer, best first: each GPU in rank order (only its pin when it
    has one) with the next best of the same host, as many as it needs; each set once."""
    need = state.need(consumer)
    pin = state.pinned(consumer)
    if need == 1 and pin is None:
        return [(g.key,) for g in ranked]
    firsts = ranked if pin is None else [g for g in ranked if g.key == pin.key]
    out: list[tuple[str, ...]] = []
    seen: set[frozenset[str]] = set()
    for first in firsts:
        chosen = [first.key] + [g.key for g in ranked if g.host == first.host and g is not first][:need - 1]
        if len(chosen) < need or frozenset(chosen) in seen:
            continue
        seen.add(frozenset(chosen))
        out.append(tuple(chosen))
    return out


def _candidates(state: _State, consumer: Consumer, score: Score, no_share: bool) -> list[tuple[str, ...]]:
    """Every GPU set within capacity (and on GPUs nobody uses under `no_share`) for the consumer, best first."""
    shares = not (no_share or state.alone(consumer))
    taken, on_gpu, fits = state.alone_taken, state.on_gpu, state.fits
    # _options, then what fits, in one pass (the search builds this list at every step).
    options = [g for g in state.eligible(consumer)
               if g.key not in taken and (shares or not on_gpu[g.key]) and fits(consumer, g)]
    if not options:
        return []
    return _sets(state, consumer, _ranked(state, consumer, score, options))


def _simple(state: _State, consumer: Consumer) -> bool:
    """A consumer whose best GPU a heap can give: one GPU, no pin, not owning it."""
    return state.need(consumer) == 1 and state.pinned(consumer) is None and not state.alone(consumer)


ScoreFor = Callable[[_State, Consumer], Score]


class _Frame:
    """One consumer's place in the search: the GPU sets left to try."""

    __slots__ = ("fast", "sets", "pos", "seen", "started")

    def __init__(self, fast: tuple[str, ...] | None, sets: list[tuple[str, ...]] | None, seen: tuple | None,
                 started: int):
        self.fast = fast      # the heap's first choice, tried before the full list is built
        self.sets = sets
        self.pos = 0
        self.seen = seen        # the state it was made in (see _Memo), None without a memo
        self.started = started  # the search's work before it


def _search(state: _State, order: list[Consumer], score_for: ScoreFor, no_share: bool, budget: int) -> int:
    """Depth-first, without recursion: every consumer within capacity (alone on a GPU under `no_share`).

    The first complete assignment tried is the greedy one (each consumer on its best-ranked fitting
    GPUs); a consumer that fits nowhere sends the search back to the last one with another choice.
    A consumer's full list of choices is built only when the search comes back to it. Returns the
    work done (GPUs examined), or -1 when no assignment was found within `budget`; on success the
    assignment stays in `state`, on failure `state` is as before.

    A search that cannot succeed spends its whole budget backtracking among the last consumers, and
    reaches the same state of the group's GPUs by many paths (two equal consumers swapped). What
    follows a state is a function of it alone (`_Memo`): the search remembers where it failed, and
    meeting that state again it counts the work that failure cost and leaves the loads as it did,
    without doing it again. The work counted, so where the budget runs out, is the same either way.
    """
    work = 0
    frames: list[_Frame] = []
    # What the search asks of each consumer at every step is fixed while it runs (`isolate_hard` too).
    scores = [score_for(state, c) for c in order]
    simple = [_simple(state, c) for c in order]
    width = [len(state.eligible(c)) for c in order]
    memo = _Memo(state, order)
    i = 0
    while i < len(order):
        consumer = order[i]
        score = scores[i]
        if len(frames) == i:
            seen = memo.key(i)
            failed = memo.failed.get(seen) if seen is not None else None
            if failed is not None and work + failed[0] <= budget:
                # This state failed before: as if searched again (the same work, the same loads after). Where
                # the budget would run out inside it, it is searched again instead, so that the search stops
                # at the very step it stopped at before, with the same loads.
                work += failed[0]
                memo.restore(failed[1])
                if i == 0:
                    return -1
                i -= 1
                state.unassign(order[i])
                continue
            started = work
            work += 1
            fast = state.best(consumer, score, no_share) if simple[i] else None
            if fast is not None:
                frames.append(_Frame((fast,), None, seen, started))
            else:
                sets = _candidates(state, consumer, score, no_share)
                work += width[i]
                frames.append(_Frame(None, sets, seen, started))
        frame = frames[i]
        choice: tuple[str, ...] | None = None
        if frame.sets is None:
            if frame.pos == 0:
                choice, frame.pos = frame.fast, 1
            else:
                frame.sets = [s for s in _candidates(state, consumer, score, no_share) if s != frame.fast]
                work += width[i]
                frame.pos = 0
        if choice is None and frame.sets is not None and frame.pos < len(frame.sets):
            choice = frame.sets[frame.pos]
            frame.pos += 1
        if work > budget:
            break
        if choice is not None:
            state.assign(consumer, choice)
            i += 1
            continue
        frames.pop()
        if frame.seen is not None:
            memo.failed[frame.seen] = (work - frame.started, memo.loads())
        if i == 0:
            return -1
        i -= 1
        state.unassign(order[i])
    else:
        return work
    for done in order[:i]:
        state.unassign(done)
    return -1


class _Memo:
    """The states of one search's GPUs it failed from, and what that failure cost and left.

    A state is what the search can read of the group's GPUs: used VRAM (exact floats: float noise from
    the order loads were added in is part of it), whether a consumer is on it, whether a
    latency-critical one is, whether one owns it; with the index of the next consumer to place. A
    score function, or a test in _candidates or best, that reads anything else of a GPU must be added
    to `key`. Kept for groups of at most MEMO_GPUS GPUs (the key is built at every step of the search).
    """

    def __init__(self, state: _State, order: list[Consumer]):
        self.state = state
        keys = sorted(_group_gpus(state, order))
        self.keys = keys if len(keys) <= MEMO_GPUS else []
        self.on = len(keys) <= MEMO_GPUS
        # state key -> (work the failure cost, used VRAM of self.keys after it)
        self.failed: dict[tuple, tuple[int, tuple[float, ...]]] = {}

    def key(self, i: int) -> tuple | None:
        if not self.on:
            return None
        state = self.state
        used, on_gpu, latency, taken = state.used, state.on_gpu, state.latency_on, state.alone_taken
        return (i, *[(used[k], bool(on_gpu[k]), latency[k] > 0, k in taken) for k in self.keys])

    def loads(self) -> tuple[float, ...]:
        used = self.state.used
        return tuple(used[k] for k in self.keys)

    def restore(self, loads: tuple[float, ...]) -> None:
        """Used VRAM as it was (the bits backtracking leaves), refreshing the heaps of GPUs that differ."""
        state = self.state
        for key, value in zip(self.keys, loads):
            if state.used[key] != value:
                state.used[key] = value
                state._touched(key)


def _greedy(state: _State, order: list[Consumer], score_for: ScoreFor, diag: Diagnostics) -> None:
    """Warn but allow: each consumer on its best-ranked GPUs, fitting ones first, overflow if need be.

    A passthrough VM only takes an empty GPU it fits on. Under an isolating strategy an `isolate`
    consumer that finds no empty GPU, or a consumer that finds only isolated ones, shares (PLACE007).
    """
    for consumer in order:
        score = score_for(state, consumer)
        fast = state.best(consumer, score, False) if _simple(state, consumer) else None
        if fast is not None:
            _record(state, consumer, [fast], diag)
            continue
        options = _options(state, consumer)
        pin = state.pinned(consumer)
        if pin is not None and pin not in options:
            options = [pin] + options     # pins win, over capacity or ownership too (the rules say so)
        if consumer.request.passthrough:
            options = [g for g in options if state.fits(consumer, g) or g is pin]
        elif state.strategy.isolating and len(options) < state.need(consumer):
            # It shares: any GPU no passthrough VM holds, and its pin whoever holds it (pins win, PASS001 says why).
            options = [g for g in state.eligible(consumer) if g is pin or not any(
                state.infra.consumers[n].request.passthrough for n in state.on_gpu[g.key])]
            if pin is not None and pin not in options:
                options = [pin] + options
        fitting = _ranked(state, consumer, score, [g for g in options if state.fits(consumer, g)])
        others = _ranked(state, consumer, score, [g for g in options if not state.fits(consumer, g)])
        ranked = fitting + others
        sets = _sets(state, consumer, ranked)
        if sets:
            _record(state, consumer, list(sets[0]), diag)
            continue
        if consumer.request.passthrough and pin is None and state.eligible(consumer):
            state.no_gpu[consumer.name] = (f"it needs a whole GPU with {fmt_gb(consumer.request.vram_gb)} GB "
                                           "and no free eligible one has it")
            continue
        # Fewer GPUs than it needs left on any host: as many as the best host still has, its pin first.
        first = pin if pin is not None else (ranked[0] if ranked else None)
        _record(state, consumer, [g.key for g in sorted(ranked, key=lambda g: g is not first)
                                  if first is not None and g.host == first.host][:state.need(consumer)], diag)


def _record(state: _State, consumer: Consumer, chosen: list[str], diag: Diagnostics) -> None:
    if not chosen:
        state.no_gpu[consumer.name] = why_none(consumer)
        return
    _warn_short(state, consumer, chosen, diag)
    state.assign(consumer, chosen)


def _warn_short(state: _State, consumer: Consumer, chosen: list[str] | tuple[str, ...], diag: Diagnostics) -> None:
    """PLACE006 when the consumer gets fewer GPUs than it asks for."""
    request = consumer.request
    wanted = state.wanted(consumer)
    if len(chosen) < wanted:
        asks = f"all {wanted} GPUs eligible for it" if request.count_all else f"{wanted} GPUs"
        most, host = state.most_on_one_host(consumer)
        if most < wanted <= len(state.eligible(consumer)):
            why = (f"a consumer's GPUs are all on one host, and no host has {wanted} eligible GPUs for it "
                   f"(the most is {most}, on {host})")
        else:
            why = f"{why_none(consumer)} beyond {', '.join(sorted(chosen))}"
        diag.warning("PLACE006", f"{consumer.name} asks for {asks} but gets {len(chosen)}: {why}", request.path)


def _components(state: _State, order: list[Consumer]) -> list[list[Consumer]]:
    """Split `order` into groups that can share no GPU (each keeps its order): they are searched apart.

    Consumers of one eligibility key share its GPUs, so GPUs are joined once per key, not per consumer."""
    find, _ = linked(order, state.key_of, state.eligible, state.pinned)
    groups: dict[str, list[Consumer]] = {}
    for consumer in order:
        groups.setdefault(find("c:" + consumer.name), []).append(consumer)
    return list(groups.values())


def _cannot_fit(state: _State, group: list[Consumer], no_share: bool) -> bool:
    """A group no search can fit: its least demand exceeds the free VRAM of its GPUs, or (alone on a GPU
    each) it needs more GPUs than it has."""
    gpus: set[str] = set()
    demand = 0.0
    smallest: dict[tuple, float] = {}
    for consumer in group:
        key = state.key_of(consumer)
        options = state.eligible(consumer)
        if key not in smallest:
            gpus.update(g.key for g in options)
            smallest[key] = min((state.usable(g) for g in options), default=0.0)
        charge = consumer.request.vram_gb
        if consumer.request.budget is not None:
            charge = min(state.charge(consumer, g) for g in options) if options else 0.0
        demand += state.need(consumer) * charge
    gpus -= state.alone_taken
    if no_share and sum(state.need(c) for c in group) > sum(not state.occupied(k) for k in gpus):
        return True
    return demand > sum(max(state.free(k), 0.0) for k in gpus) + 1e-9


def _group_gpus(state: _State, group: list[Consumer]) -> set[str]:
    """The GPUs eligible for some consumer of the group, joined once per eligibility key (10 000 consumers
    without `host` share one key: not consumers x GPUs)."""
    gpus: set[str] = set()
    seen: set[tuple] = set()
    for consumer in group:
        key = state.key_of(consumer)
        if key not in seen:
            seen.add(key)
            gpus.update(g.key for g in state.eligible(consumer))
    return gpus


def _owners_cannot_fit(state: _State, group: list[Consumer]) -> bool:
    """Whether no search can fit the group because the consumers that own their GPU (`alone`) leave too
    little for the rest: each takes a whole GPU nobody uses, so at least the freest-but-smallest such GPUs
    (as many as they need), and at least their own VRAM, is lost to the others. A proof, never a guess:
    every term is a bound the search cannot beat (see _place_ranked for why it is charged as a search)."""
    owners = [c for c in group if state.alone(c)]
    if not owners:
        return False
    gpus = _group_gpus(state, group) - state.alone_taken
    empty = sorted(max(state.free(k), 0.0) for k in gpus if not state.occupied(k))
    taken = sum(state.need(c) for c in owners)
    if taken > len(empty):
        return True
    demand = 0.0
    owned = 0.0
    for consumer in group:
        options = state.eligible(consumer)
        charge = consumer.request.vram_gb
        if consumer.request.budget is not None:
            charge = min(state.charge(consumer, g) for g in options) if options else 0.0
        if state.alone(consumer):
            owned += state.need(consumer) * charge
        else:
            demand += state.need(consumer) * charge
    lost = max(sum(empty[:taken]), owned)
    # Each GPU may end up to 1e-9 GB over (see fits): the bound allows as much.
    return demand + lost > sum(max(state.free(k), 0.0) for k in gpus) + 1e-9 * (len(gpus) + 1)


def _tiers(state: _State) -> list[tuple[bool, bool]]:
    """(no_share, isolate_hard) in the order to try: under `exclusive` one consumer per GPU first; under an
    isolating strategy `isolate` consumers alone first, then sharing (PLACE007) rather than overflowing."""
    shares = (True, False) if state.exclusive else (False,)
    isolations = (True, False) if state.strategy.isolating else (True,)
    return [(s, i) for i in isolations for s in shares]


def _place_ranked(state: _State, order: list[Consumer], score_for: ScoreFor, diag: Diagnostics) -> None:
    """Per group of consumers that can share GPUs: search for an assignment that fits, tier by tier
    (see _tiers), else greedy.

    The search work is shared: WORK_BUDGET for the whole placement, and for one group at most
    GROUP_WORK_PER_CONSUMER per consumer and GPU (at least GROUP_WORK_MIN), so a large input that
    cannot fit falls back to greedy quickly while a small one is searched to the end.
    """
    order = [c for c in order if c.name not in state.placed]
    for group in _components(state, order):
        placed = False
        gpus = len(_group_gpus(state, group))
        for no_share, isolate_hard in _tiers(state):
            state.isolate(isolate_hard)
            if _cannot_fit(state, group, no_share):
                continue
            budget = min(state.budget, max(GROUP_WORK_MIN, GROUP_WORK_PER_CONSUMER * (len(group) + gpus)))
            if _owners_cannot_fit(state, group):
                # The search would fail: it is charged its whole budget, as a failed search is, so that
                # the groups after it get the budget they got before this proof existed.
                state.budget -= budget
                continue
            used = _search(state, group, score_for, no_share, budget)
            state.budget -= used if used >= 0 else budget
            if used >= 0:
                placed = True
                for consumer in group:
                    _warn_short(state, consumer, state.placed[consumer.name], diag)
                break
        state.isolate(True)
        if not placed:
            _greedy(state, group, score_for, diag)


def _by_vram(consumers: Iterable[Consumer]) -> list[Consumer]:
    return sorted(consumers, key=lambda c: (-c.request.vram_gb, c.name))


def _owners_first(state: _State, rest: list[Consumer]) -> tuple[list[Consumer], list[Consumer]]:
    """Consumers that own their GPU come first (largest request first), then pinned ones with several
    GPUs (their pin leaves them the fewest choices), then the others."""
    alone = _by_vram(c for c in rest if state.alone(c))
    pinned = _by_vram(c for c in rest if not state.alone(c) and state.pinned(c) is not None)
    return alone + pinned, [c for c in rest if not state.alone(c) and state.pinned(c) is None]


def _over(state: _State) -> bool:
    """Whether a GPU is over capacity with a consumer on it that placement chose for it (not only pins)."""
    return any(state.used[k] > state._usable[k] + 1e-9
               and any(state.pinned(state.infra.consumers[n]) is None for n in state.on_gpu[k])
               for k in state.infra.gpus)



def _judged_again(state: _State, scratch: Diagnostics, solved: set[str]) -> Diagnostics:
    """Step 1's findings, with the PLACE006 of each consumer HiGHS re-placed judged on the GPUs it has now
    (step 1's names the GPUs it had then). Names are validated (no spaces), so the message's first word
    says whose it is."""
    again = Diagnostics(scratch.document, scratch.default_file)
    again.extend(f for f in scratch.findings
                 if f.code != "PLACE006" or f.message.split(" ", 1)[0] not in solved)
    for name in sorted(solved):
        _warn_short(state, state.infra.consumers[name], state.placed.get(name, ()), again)
    return again

def _balanced(state: _State, rest: list[Consumer], diag: Diagnostics) -> BalanceReport | None:
    """Even out utilisation across GPUs within capacity (joint.py, solver.py, balance.py).

    1. vram_based's search places everyone, without the previous placement (so this step is a pure
       function of the input): a placement within capacity whenever its search finds one.
    2. Each small group of GPUs that share consumers is re-placed jointly by HiGHS (joint.py): every
       consumer of it, passthrough VMs and `count >= 2` ones included, for the least deviation of
       utilisation (solver.py). A group it cannot place keeps step 1's placement.
    3. In the other groups balance.py moves the consumers that want one GPU of their own choice (no pin,
       not passthrough), around step 1's placement of the others; its answer is taken only when it is
       within capacity (and one per GPU where step 1 was). Low churn there: the previous placement of
       those consumers stays when it is valid, within capacity and at least as even. Step 2's ties go to
       the previous placement (solver.py), so a second sync of the same input moves nothing either way.

    `exact` means every group with a choice was solved by HiGHS to a proven optimum (solver.py).
    """
    previous, state.previous = state.previous, {}
    scratch = Diagnostics(diag.document, diag.default_file)
    VramBased().place(state, rest, scratch)
    state.previous = previous
    movable = [c for c in rest if c.name in state.placed]
    results = joint.optimise(state, movable)
    solved = {name for r in results if r.answer is not None for name in r.consumers}
    if solved:
        scratch = _judged_again(state, scratch, solved)
    first = dict(state.placed)
    single = sorted((c for c in movable if c.name not in solved and state.need(c) == 1 and not state.alone(c)
                     and state.pinned(c) is None), key=lambda c: c.name)
    domain = [k for k, g in state.infra.gpus.items()
              if g.status != "unavailable" and k not in state.alone_taken and state.usable(g) > 0]
    if not domain:
        diag.extend(scratch.findings)
        return None
    index = {k: i for i, k in enumerate(domain)}
    capacity = [state.usable(state.infra.gpus[k]) for k in domain]
    # The spread bound holds for every placement when the domain cannot change (no VM moves) and the
    # consumers balance.py does not move are pins or solved groups (their demand is counted below).
    left = [c for c in movable if c.name not in solved]
    pins_only = len(single) == len(left) and not any(state.alone(c) for c in movable)
    answers = [r.answer for r in results if r.answer is not None]
    # Usable GPUs no pinned VM holds: at most that many are balanced in any placement.
    most = sum(1 for k, g in state.infra.gpus.items() if g.status != "unavailable" and state.usable(g) > 0
               and not any(state.pinned(state.infra.consumers[n]) is not None for n in state.on_gpu[k]
                           if state.alone(state.infra.consumers[n]))) if answers else 0
    solver_bound = solver.variance_bound(answers, most)

    def bound(spread: float) -> float:
        return max(spread if pins_only else 0.0, solver_bound)

    def report(method: str, spread: float) -> BalanceReport:
        return _balance_report(state, method, domain, capacity, bound(spread), results)

    over_first = _over(state)
    shared_first = any(len(state.on_gpu[k]) > 1 for k in domain)
    if not single:
        diag.extend(scratch.findings)
        exact = all(r.method == "exact" for r in results) and not over_first
        return report("exact" if exact else "heuristic, over capacity" if over_first else "heuristic",
                      _spread_bound(state, [c for c in movable if not state.alone(c)], domain, capacity))
    if sum(len(state.eligible(c)) for c in single) > BALANCE_MAX_OPTIONS:
        # Too many choices for the optimiser within the speed goal: step 1's placement (most free VRAM
        # first, an even spread over equal GPUs) stands, reported as a heuristic with the spread bound.
        diag.extend(scratch.findings)
        return report("heuristic", _spread_bound(state, single + [c for c in movable if c.name in solved],
                                                 domain, capacity))
    # With solved groups their consumers' demand joins the bound's (else the items' alone give it, cheaply).
    spread = _spread_bound(state, single + [c for c in movable if c.name in solved], domain, capacity) \
        if solved else -1.0
    for consumer in single:
        state.unassign(consumer)
    items = []
    for consumer in single:
        options = sorted((g for g in _options(state, consumer) if g.key in index), key=lambda g: g.key)
        items.append(balance.Item(tuple(index[g.key] for g in options),
                                  tuple(state.charge(consumer, g) for g in options)))
    load0 = [state.used[k] for k in domain]
    occupied0 = [len(state.on_gpu[k]) for k in domain]
    exclusive = state.exclusive and not shared_first
    if spread < 0:
        spread = balance.spread_bound(balance.groups_of(items, load0), capacity)
    if over_first:
        # Nothing fits within capacity (step 1's search found nothing): warn but allow, with the most even
        # spread of the overflow the heuristic finds, one per GPU where step 1 was.
        placed, _ = balance.heuristic(items, load0, capacity, exclusive, within_capacity=False,
                                      occupied0=occupied0)
        for consumer, g in zip(single, placed):
            state.assign(consumer, [domain[g]] if g is not None else list(first[consumer.name]))
        diag.extend(scratch.findings)
        return report("heuristic, over capacity", spread)
    result = balance.solve(items, load0, capacity, exclusive=exclusive, occupied0=occupied0)
    choice: list[str] = [domain[g] if g is not None else "" for g in result.choice]
    if not result.feasible or any(not c for c in choice):
        choice = [first[c.name][0] for c in single]
    kept = _previous_if_as_good(state, single, choice, domain, capacity, exclusive)
    for consumer, key in zip(single, kept or choice):
        state.assign(consumer, [key])
    diag.extend(scratch.findings)
    return report("heuristic", max(spread, result.lower_bound if result.feasible and pins_only and not solved
                                   else 0.0))


def _spread_bound(state: _State, single: list[Consumer], domain: list[str], capacity: list[float]) -> float:
    """balance.spread_bound for `single` (placed, none a VM) without building an item per consumer: one
    demand per eligibility key, its least and largest charges (times the GPUs each takes) summed over its
    consumers."""
    index = {k: i for i, k in enumerate(domain)}
    load0 = [state.used[k] for k in domain]
    demands: dict[tuple, tuple[tuple[int, ...], float, float]] = {}
    # Per eligibility key: its smallest and largest usable GPU (a budgeted charge is monotone in usable VRAM).
    extremes: dict[tuple, tuple[Gpu, Gpu]] = {}
    for consumer in single:
        for key in state.placed[consumer.name]:
            if key in index:
                load0[index[key]] -= state.charge(consumer, state.infra.gpus[key])
        eligibility = eligibility_key(consumer)
        if eligibility not in demands:
            gpus = tuple(index[g.key] for g in state.eligible(consumer) if g.key in index)
            demands[eligibility] = (gpus, 0.0, 0.0)
            if gpus:
                extremes[eligibility] = (state.infra.gpus[domain[min(gpus, key=capacity.__getitem__)]],
                                         state.infra.gpus[domain[max(gpus, key=capacity.__getitem__)]])
        gpus, least, most = demands[eligibility]
        if not gpus:
            continue
        charges = [state.charge(consumer, gpu) for gpu in extremes[eligibility]]
        need = state.need(consumer)
        demands[eligibility] = (gpus, least + need * min(charges), most + need * max(charges))
    return balance.spread_bound(balance.demand_groups(demands.values(), load0), capacity)


def _previous_if_as_good(state: _State, single: list[Consumer], choice: list[str], domain: list[str],
                         capacity: list[float], exclusive: bool) -> list[str] | None:
    """The previous GPUs of `single` when each is still one it may take, all fit together (one per GPU
    under `exclusive`) and their variance is no higher than `choice`'s; else None."""
    before = [state.previous.get(c.name, ()) for c in single]
    if not single or any(len(p) != 1 for p in before) or [p[0] for p in before] == choice:
        return None
    index = {k: i for i, k in enumerate(domain)}
    keys = [p[0] for p in before]
    load = [state.used[k] for k in domain]
    count = [len(state.on_gpu[k]) for k in domain]
    new_load = list(load)
    for consumer, key, new in zip(single, keys, choice):
        gpu = state.infra.gpus.get(key)
        if gpu is None or key not in index or not state.may_use(consumer, key) or key in state.alone_taken:
            return None
        load[index[key]] += state.charge(consumer, gpu)
        count[index[key]] += 1
        new_load[index[new]] += state.charge(consumer, state.infra.gpus[new])
    if any(used > cap + 1e-9 for used, cap in zip(load, capacity)) or (exclusive and max(count) > 1):
        return None
    if balance.variance(load, capacity) > balance.variance(new_load, capacity) + 1e-9:
        return None
    return keys


def _balance_report(state: _State, method: str, domain: list[str], capacity: list[float],
                    bound: float, results: list[joint.GroupResult]) -> BalanceReport:
    final = [state.used[k] for k in domain]
    achieved = balance.variance(final, capacity)
    loads = [used / cap for used, cap in zip(final, capacity)]
    groups = tuple(GroupReport(r.gpus, r.method, r.answer.deviation if r.answer else None,
                               r.answer.bound if r.answer else None) for r in results)
    return BalanceReport(method, achieved, min(bound, achieved), max(loads), min(loads), groups)


class Strategy:
    """A placement strategy: what the frame (pins, the search, the report) asks of it.

    A new strategy is one subclass and one entry in STRATEGIES (the schema's
    `placement.strategy` enum and `psot place --strategy` must list it: tests/placement/test_strategies.py).
    The default `place` runs the ranked search over `order`, ranking GPUs by `score_for`.
    """

    name: ClassVar[str]
    isolating: ClassVar[bool] = False   # `isolate` consumers own their GPU; PLACE007 when one must be shared
    searches: ClassVar[bool] = True     # it places beyond the pins (PLACE004 judges what it chose)

    def isolates(self, consumer: Consumer) -> bool:
        """Whether `consumer` owns its GPU under this strategy (passthrough always does, see _State.alone)."""
        return self.isolating and consumer.request.isolate

    def order(self, state: _State, rest: list[Consumer]) -> list[Consumer]:
        """The order the search places the consumers that are not pinned."""
        alone, others = _owners_first(state, rest)
        return alone + _by_vram(others)

    def score_for(self, state: _State, consumer: Consumer) -> Score:
        return score_largest if state.alone(consumer) else score_vram

    def place(self, state: _State, rest: list[Consumer], diag: Diagnostics) -> BalanceReport | None:
        _place_ranked(state, self.order(state, rest), self.score_for, diag)
        return None


class Manual(Strategy):
    """Only pins: every consumer without a usable pin is an error (PLACE005)."""

    name = "manual"
    searches = False

    def place(self, state: _State, rest: list[Consumer], diag: Diagnostics) -> BalanceReport | None:
        pinned = [c for c in rest if state.pinned(c) is not None]
        _place_ranked(state, _by_vram(pinned), VramBased().score_for, diag)
        for consumer in rest:
            if state.pinned(consumer) is not None:
                continue
            lost = state.pin_lost.pop(consumer.name, None)
            if lost is not None:
                # Nothing falls back under manual: PLACE005 tells the whole story, PLACE003 would contradict it.
                diag.error("PLACE005", f"strategy is 'manual' but {consumer.name} is pinned to {lost}, which is "
                           "unavailable, and manual places nothing else; pin it to an available GPU",
                           consumer.request.path + ("pin",))
            else:
                diag.error("PLACE005", f"strategy is 'manual' but {consumer.name} has no usable pin; "
                           "set gpu.pin to a GPU (name or host/gpu)", consumer.request.path)
        return None


class VramBased(Strategy):
    """Largest request first, each to the eligible GPU with the most free VRAM (seed 001)."""

    name = "vram_based"


class LatencyOptimized(Strategy):
    """`latency_critical` consumers first, on the fastest GPU; the rest spread over the others."""

    name = "latency_optimized"

    def order(self, state: _State, rest: list[Consumer]) -> list[Consumer]:
        alone, others = _owners_first(state, rest)
        critical = _by_vram(c for c in others if c.request.latency_critical)
        normal = _by_vram(c for c in others if not c.request.latency_critical)
        return alone + critical + normal

    def score_for(self, state: _State, consumer: Consumer) -> Score:
        if state.alone(consumer):
            return score_largest
        return score_fastest if consumer.request.latency_critical else score_spread


class IsolationFirst(Strategy):
    """Each `isolate` consumer gets the largest free GPU to itself; everything else shares what remains."""

    name = "isolation_first"
    isolating = True


class Balanced(Strategy):
    """Minimise the variance of utilisation across GPUs within capacity (see _balanced)."""

    name = "balanced"

    def place(self, state: _State, rest: list[Consumer], diag: Diagnostics) -> BalanceReport | None:
        return _balanced(state, rest, diag)


# The strategies of SPEC §4, in the order `psot place --compare` shows them.
STRATEGIES: dict[str, Strategy] = {s.name: s for s in (Manual(), VramBased(), LatencyOptimized(), IsolationFirst(),
                                                       Balanced())}
STRATEGY_NAMES = tuple(STRATEGIES)


def place(infra: Infra, diag: Diagnostics, strategy: str | None = None,
          previous: Mapping[str, tuple[str, ...]] | None = None) -> Placement | None:
    """Place every consumer; None when the strategy cannot run (an error is reported).

    `previous` is the last placement of the same strategy (consumer -> GPU keys), for low churn.
    """
    strategy = strategy or infra.strategy
    sub = Diagnostics(diag.document, diag.default_file)
    if strategy not in STRATEGIES:
        diag.at_location("PLACE001", "error", f"unknown placement strategy '{strategy}'; use one of: "
                         f"{', '.join(STRATEGY_NAMES)}", "<command line>", 1, 1, "--strategy")
        return None
    state = _State(infra, previous or {}, STRATEGIES[strategy])
    report = None
    if infra.gpus:
        report = _run(state, sub)
    else:
        # No inventory (a plain AnKLuMe file): machines share the one host GPU,
        # as AnKLuMe counts them; only workloads need a GPU named for them.
        for consumer in infra.consumers.values():
            if consumer.kind == "workload":
                sub.warning("PLACE002", f"{consumer.name} gets no GPU: there are no GPUs under hosts",
                            consumer.path)
    budgets = _budgets(state)
    by_free: dict[tuple, list[_ByFree]] = {}
    placement = Placement(
        strategy=strategy,
        assignments={
            name: Assignment(state.placed.get(name, ()), c.request.vram_gb, budgets.get(name),
                             _fallback(state, c, by_free))
            for name, c in infra.consumers.items()
        },
        gpus={key: GpuUse(gpu.vram_gb, state.used[key], tuple(sorted(state.on_gpu[key])), _status_of(state, gpu))
              for key, gpu in infra.gpus.items()},
        unplaced=tuple(n for n, c in infra.consumers.items()
                       if not state.placed.get(n) and (infra.gpus or c.kind == "workload")),
        findings=tuple(sub.findings),
        balance=report,
    )
    diag.extend(sub.findings)
    return placement


def _status_of(state: _State, gpu: Gpu) -> str:
    """The GPU's status as its consumers see it: a VM's it is passed through to, else the host driver's."""
    users = [state.infra.consumers[name] for name in state.on_gpu[gpu.key]]
    return status(users[0], gpu) if users and all(c.request.passthrough for c in users) else gpu.status


def _run(state: _State, diag: Diagnostics) -> BalanceReport | None:
    infra = state.infra
    consumers = sorted(infra.consumers.values(), key=lambda c: c.name)
    rest = []
    for consumer in consumers:
        pin = infra.gpus.get(consumer.request.pin_gpu) if consumer.request.pin_gpu else None
        if pin is not None and state.pinned(consumer) is None:
            state.pin_lost[consumer.name] = pin.key
        if state.pinned(consumer) is not None and state.need(consumer) == 1:
            _record(state, consumer, [pin.key] if pin is not None else [], diag)  # pins win in every strategy
        else:
            rest.append(consumer)   # with a pin and count > 1: its other GPUs are searched with everyone
    report = state.strategy.place(state, rest, diag)
    _report(state, diag)
    if not state.strategy.searches:
        return report
    for name, keys in sorted(state.placed.items()):
        consumer = infra.consumers[name]
        if consumer.request.count_all:
            continue  # it asked for every eligible GPU, degraded ones too: no ok GPU was passed over
        for key in keys:
            if status(consumer, infra.gpus[key]) == "degraded" and key != consumer.request.pin_gpu:
                diag.warning("PLACE004", f"{name} is placed on {key}, which is degraded: no ok GPU can take it",
                             consumer.path)
    return report


def _report(state: _State, diag: Diagnostics) -> None:
    """One finding per consumer that lost its pin or got no GPU, from where placement left it.

    A consumer pinned to an unavailable GPU gets PLACE003 alone, saying where it went instead, or
    that it went nowhere and why; PLACE002 is for the others that get no GPU.
    """
    infra = state.infra
    for name, lost in sorted(state.pin_lost.items()):
        consumer = infra.consumers[name]
        placed = state.placed.get(name)
        if placed:
            story = f"it falls back to {', '.join(placed)}"
        else:
            story = f"it gets no other GPU: {state.no_gpu.get(name) or why_none(consumer)}"
        diag.warning("PLACE003", f"{name} is pinned to {lost}, which is unavailable; {story}",
                     consumer.request.path + ("pin",))
    for name, why in sorted(state.no_gpu.items()):
        if name not in state.pin_lost:
            diag.warning("PLACE002", f"{name} gets no GPU: {why}", infra.consumers[name].path)
    if not state.strategy.isolating:
        return
    for name, keys in sorted(state.placed.items()):
        consumer = infra.consumers[name]
        shared = [k for k in keys if len(state.on_gpu[k]) > 1]
        if consumer.request.isolate and not consumer.request.passthrough and shared:
            others = sorted({n for k in shared for n in state.on_gpu[k]} - {name})
            diag.warning("PLACE007", f"{name} is to be isolated but shares {', '.join(shared)} with "
                         f"{', '.join(others)}: the GPUs that could take it alone cannot fit everyone", consumer.path)


def _budgets(state: _State) -> dict[str, float]:
    """Each budget lowered to what its smallest GPU offers (seed 001's auto-adjustment; rule VRAM001 reports it)."""
    infra = state.infra
    out = {}
    for name, consumer in infra.consumers.items():
        budget = consumer.request.budget
        if budget is None:
            continue
        keys = state.placed.get(name, ())
        if not keys:
            out[name] = budget.gb
            continue
        smallest = min((infra.gpus[k] for k in keys), key=lambda g: (g.vram_gb, g.key))
        out[name] = min(budget.gb, round(state.usable(smallest), 3))
    return out


_ByFree = tuple[bool, float, str, Gpu]   # degraded, -free VRAM rounded, GPU key, the GPU (see _fallback)


def _fallback(state: _State, consumer: Consumer, by_free: dict[tuple, list[_ByFree]]) -> tuple[str, ...]:
    """Where the consumer would go if its GPU failed: other eligible GPUs, best first, at most FALLBACK_MAX.

    A passthrough VM can only move to a GPU nobody uses; nobody moves onto a
    passed-through GPU. Then: `ok` before `degraded`, GPUs it fits on before
    others, most free VRAM, name. `by_free` holds, per eligibility key, its GPUs
    by status and most free VRAM once placement is over: the walk stops after a
    few GPUs more than it lists, so listing costs no scan of every GPU.
    """
    own = set(state.placed.get(consumer.name, ()))
    if not own:
        return ()
    key = state.key_of(consumer)
    passthrough = consumer.request.passthrough
    if key not in by_free:
        # Free VRAM is a float sum whose last bits depend on the order consumers were added: rounded,
        # equal GPUs tie and go by name, and a second sync of the same input orders them the same.
        by_free[key] = sorted((_degraded(passthrough, g), -round(state.free(g.key), 6), g.key, g)
                              for g in state.eligible(consumer))
    taken, on_gpu = state.alone_taken, state.on_gpu
    picked: list[_ByFree] = []
    for entry in by_free[key]:
        gpu_key = entry[2]
        if gpu_key in own or gpu_key in taken or (passthrough and on_gpu[gpu_key]):
            continue
        picked.append(entry)
        if len(picked) == 2 * FALLBACK_MAX:
            break
    # Keys are unique, so the tuples sort as (status, fits, free VRAM, name) and never reach the GPU.
    ranked = sorted((degraded, state.free(gpu_key) < state.charge(consumer, gpu), free, gpu_key)
                    for degraded, free, gpu_key, gpu in picked)
    return tuple(entry[3] for entry in ranked[:FALLBACK_MAX])
