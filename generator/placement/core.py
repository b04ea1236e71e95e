"""Place stage: which GPU(s) every consumer gets, its VRAM budget, its fallbacks.

A pure function of the model: the same Infra gives the same Placement on
every run and machine (consumers and GPUs are visited in a fixed order and
every tie is broken by name).

The five strategies of SPEC §4 share one frame:

1. pinned consumers go to their pin (a pin to an unavailable GPU falls back);
2. passthrough consumers take a whole, empty GPU each, the largest first;
3. the rest are placed by the strategy: an order of consumers and a ranking
   of GPUs (`vram_based`, `latency_optimized`, `isolation_first`), or an
   optimiser (`balanced`, see balance.py); `manual` places nothing more.

Ranked strategies search depth first, consumer by consumer, taking GPUs in
rank order and only where the consumer fits: the first complete assignment
is the greedy one whenever the greedy one fits, and a backtracked one when
it would not. Under `exclusive` the search first looks for one consumer per
GPU. When nothing fits (or the search gives up after NODE_BUDGET steps),
the greedy choice is taken anyway and the rules warn (seed 001: warn but
allow).

Low churn: given the previous placement (placement.yml of the same
strategy), a consumer whose previous GPU is still eligible and fits stays
there; see the rank functions for where that preference sits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from generator.diagnostics.findings import Diagnostics, Finding, format_path
from generator.model.core import Consumer, Gpu, Infra
from generator.placement import balance
from generator.placement.eligibility import eligible, status, why_none

NODE_BUDGET = 50_000              # search steps for a whole placement
GROUP_BUDGET_MIN = 1_000           # ... and for one group of consumers that can share GPUs
GROUP_BUDGET_PER_CONSUMER = 20


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
class BalanceReport:
    """How good `balanced`'s answer is: its variance of utilisation and a lower bound on any answer's,
    and for people the spread of the loads it balanced (utilisation: used / usable VRAM)."""
    method: str            # "exact" (branch and bound finished), "heuristic", or "heuristic, over capacity"
    variance: float
    lower_bound: float
    max_load: float = 0.0  # the highest and lowest utilisation among the GPUs it balanced
    min_load: float = 0.0

    @property
    def gap(self) -> float:
        return max(self.variance - self.lower_bound, 0.0)

    @property
    def narrower_by(self) -> int:
        """At most how many points narrower (max - min, in % of usable VRAM) the best placement's spread is.

        Loads whose spread is R have a variance of at most (R/2)^2, so the best placement, whose variance
        is at least the lower bound, has a spread of at least 2 * sqrt(lower bound). Rounded up: "up to".
        """
        if self.method == "exact":
            return 0
        spread = self.max_load - self.min_load
        return max(math.ceil(100 * (spread - 2 * math.sqrt(self.lower_bound)) - 1e-6), 0)

    def summary(self) -> str:
        """`GPU load spread: max 91%, min 87% of usable VRAM; best possible found`."""
        spread = (f"GPU load spread: max {round(100 * self.max_load)}%, min {round(100 * self.min_load)}% "
                  "of usable VRAM")
        if self.method == "exact":
            return f"{spread}; best possible found"
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
            **({"balance": {"method": self.balance.method, "variance": round(self.balance.variance, 6),
                            "lower_bound": round(self.balance.lower_bound, 6),
                            "gap": round(self.balance.gap, 6),
                            "max_load_pct": number(100 * self.balance.max_load),
                            "min_load_pct": number(100 * self.balance.min_load),
                            "summary": self.balance.summary()}} if self.balance else {}),
        }


class _State:
    """Mutable bookkeeping while one strategy runs."""

    def __init__(self, infra: Infra, previous: Mapping[str, tuple[str, ...]], strategy: Strategy):
        self.infra = infra
        self.strategy = strategy
        self.headroom = infra.headroom_gb
        self.exclusive = infra.gpu_policy == "exclusive"
        self.previous = previous
        self.used = {k: 0.0 for k in infra.gpus}
        self.on_gpu: dict[str, list[str]] = {k: [] for k in infra.gpus}
        self.alone_taken: set[str] = set()     # GPUs a consumer has to itself (see `alone`)
        self.budget = NODE_BUDGET              # search steps left (see _place_ranked)
        self.placed: dict[str, tuple[str, ...]] = {}
        # Why a consumer got no GPU, while it has none: reported once placement is over (see _report),
        # so a consumer that a later pass does place (balanced redoes the first one's) is not reported.
        self.no_gpu: dict[str, str] = {}
        self.pin_lost: dict[str, str] = {}     # consumer -> the unavailable GPU it is pinned to
        self._eligible: dict[str, list[Gpu]] = {}
        self._usable = {k: max(g.vram_gb - self.headroom, 0.0) for k, g in infra.gpus.items()}

    def eligible(self, consumer: Consumer) -> list[Gpu]:
        if consumer.name not in self._eligible:
            self._eligible[consumer.name] = eligible(consumer, self.infra)
        return self._eligible[consumer.name]

    def wanted(self, consumer: Consumer) -> int:
        """GPUs the consumer asks for: its `count`, or with `count: all` every GPU eligible for it.

        Eligible GPUs are those of its one host (rule FIT004 holds `all` to a consumer with one host),
        whatever their status but unavailable: a GPU `--without` takes away is no longer asked for.
        """
        if consumer.request.count_all:
            return max(len(self.eligible(consumer)), 1)
        return consumer.request.count

    def usable(self, gpu: Gpu) -> float:
        """What a consumer may use on `gpu`: its VRAM less the headroom kept free."""
        return self._usable[gpu.key]

    def charge(self, consumer: Consumer, gpu: Gpu) -> float:
        """VRAM the consumer takes on `gpu`; a budgeted service shrinks to fit the GPU."""
        request = consumer.request
        if request.budget is not None:
            return min(request.vram_gb, request.budget.gb, self.usable(gpu))
        return request.vram_gb

    def free(self, key: str) -> float:
        return self._usable[key] - self.used[key]

    def fits(self, consumer: Consumer, gpu: Gpu) -> bool:
        return self.charge(consumer, gpu) <= self.free(gpu.key) + 1e-9

    def occupied(self, key: str) -> bool:
        return bool(self.on_gpu[key])

    def alone(self, consumer: Consumer) -> bool:
        """Consumers that own their GPU: passthrough VMs, and those the strategy isolates."""
        return consumer.request.passthrough or self.strategy.isolates(consumer)

    def was_on(self, consumer: Consumer, key: str) -> bool:
        return key in self.previous.get(consumer.name, ())

    def assign(self, consumer: Consumer, keys: list[str]) -> None:
        for key in keys:
            self.used[key] += self.charge(consumer, self.infra.gpus[key])
            self.on_gpu[key].append(consumer.name)
            if self.alone(consumer):
                self.alone_taken.add(key)
        self.placed[consumer.name] = tuple(keys)
        self.no_gpu.pop(consumer.name, None)

    def unassign(self, consumer: Consumer) -> None:
        for key in self.placed.pop(consumer.name, ()):
            self.used[key] -= self.charge(consumer, self.infra.gpus[key])
            self.on_gpu[key].remove(consumer.name)
            if self.alone(consumer):
                self.alone_taken.discard(key)


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


# Rank functions: lower is better; every tuple ends with the GPU key, so ties go by name.
Rank = Callable[["_State", Consumer, Gpu], tuple]


def _occupied_first(state: _State, gpu: Gpu) -> bool:
    """Under `exclusive` a GPU nobody uses beats any shared one: sharing breaks the policy."""
    return state.exclusive and state.occupied(gpu.key)


def rank_vram(state: _State, consumer: Consumer, gpu: Gpu) -> tuple:
    """vram_based: `ok` before `degraded`, its previous GPU, then the most free VRAM."""
    return (_occupied_first(state, gpu), status(consumer, gpu) == "degraded", not state.was_on(consumer, gpu.key),
            -state.free(gpu.key), gpu.key)


def rank_fastest(state: _State, consumer: Consumer, gpu: Gpu) -> tuple:
    """latency_optimized, latency-critical consumers: the fastest GPU."""
    return (_occupied_first(state, gpu), status(consumer, gpu) == "degraded", -speed(gpu),
            not state.was_on(consumer, gpu.key), -state.free(gpu.key), gpu.key)


def rank_spread(state: _State, consumer: Consumer, gpu: Gpu) -> tuple:
    """latency_optimized, the rest: GPUs of no latency-critical consumer first, then by free VRAM."""
    latency = any(state.infra.consumers[n].request.latency_critical for n in state.on_gpu[gpu.key])
    return (_occupied_first(state, gpu), status(consumer, gpu) == "degraded", latency,
            not state.was_on(consumer, gpu.key), -state.free(gpu.key), gpu.key)


def rank_largest(state: _State, consumer: Consumer, gpu: Gpu) -> tuple:
    """Consumers that own their GPU (passthrough, `isolate`): the largest free GPU."""
    return (status(consumer, gpu) == "degraded", not state.was_on(consumer, gpu.key), -gpu.vram_gb, gpu.key)


def _options(state: _State, consumer: Consumer, allowed: Callable[[Gpu], bool] = lambda g: True) -> list[Gpu]:
    """GPUs the consumer may take now: eligible, not owned by another consumer, empty if it must own one."""
    alone = state.alone(consumer)
    return [g for g in state.eligible(consumer)
            if g.key not in state.alone_taken and not (alone and state.occupied(g.key)) and allowed(g)]


def _pick(state: _State, consumer: Consumer, options: list[Gpu], rank: Rank, count: int,
          must_fit: bool, no_share: bool) -> list[str] | None:
    """`count` GPUs by rank (fitting ones only when `must_fit`); None when fewer are possible."""
    chosen: list[str] = []
    for _ in range(count):
        usable = [g for g in options if g.key not in chosen
                  and (not must_fit or state.fits(consumer, g))
                  and not (no_share and state.occupied(g.key))]
        if not usable:
            break
        key = (lambda g: rank(state, consumer, g)) if must_fit else \
            (lambda g: (not state.fits(consumer, g),) + rank(state, consumer, g))
        chosen.append(min(usable, key=key).key)
    if must_fit and len(chosen) < count:
        return None
    return chosen


RankFor = Callable[[_State, Consumer], Rank]


def _search(state: _State, order: list[Consumer], rank_for: RankFor, no_share: bool, budget: int) -> int:
    """Depth-first: every consumer within capacity (and alone under `no_share`), GPUs in rank order.

    Returns the steps used, or -1 when it found no assignment within `budget` steps. On
    success the assignment stays in `state`; on failure `state` is as before.
    """
    nodes = 0

    def dfs(i: int) -> bool:
        nonlocal nodes
        if i == len(order):
            return True
        nodes += 1
        if nodes > budget:
            return False
        consumer = order[i]
        rank = rank_for(state, consumer)
        options = [g for g in _options(state, consumer) if state.fits(consumer, g)
                   and not (no_share and state.occupied(g.key))]
        options.sort(key=lambda g: rank(state, consumer, g))
        for first in options:
            rest = _pick(state, consumer, [g for g in options if g is not first], rank,
                         state.wanted(consumer) - 1, must_fit=True, no_share=no_share)
            if rest is None:
                continue
            state.assign(consumer, [first.key] + rest)
            if dfs(i + 1):
                return True
            state.unassign(consumer)
            if nodes > budget:
                return False
        return False

    return nodes if dfs(0) else -1


def _greedy(state: _State, order: list[Consumer], rank_for: RankFor, diag: Diagnostics) -> None:
    """Warn but allow: each consumer on its best-ranked GPU, fitting ones first, overflow if need be.

    A consumer that owns its GPU only takes one it fits on. Under an isolating strategy, a consumer
    that no GPU outside the isolated ones can take shares an isolated one (PLACE007).
    """
    for consumer in order:
        rank = rank_for(state, consumer)
        alone = state.alone(consumer)
        options = _options(state, consumer)
        shares_isolated = False
        if not options and not alone and state.strategy.isolating:
            options = [g for g in state.eligible(consumer)
                       if not any(state.infra.consumers[n].request.passthrough for n in state.on_gpu[g.key])]
            shares_isolated = bool(options)
        chosen = _pick(state, consumer, options, rank, state.wanted(consumer), must_fit=alone, no_share=alone)
        if alone and chosen is None and state.eligible(consumer):
            state.no_gpu[consumer.name] = (f"it needs a whole GPU with {fmt_gb(consumer.request.vram_gb)} GB "
                                           "and no free eligible one has it")
            continue
        _record(state, consumer, chosen or [], diag)
        if shares_isolated and chosen:
            diag.warning("PLACE007", f"{consumer.name} shares {', '.join(chosen)} with an isolated consumer: "
                         "no other GPU can take it", consumer.path)


def _record(state: _State, consumer: Consumer, chosen: list[str], diag: Diagnostics) -> None:
    request = consumer.request
    if not chosen:
        state.no_gpu[consumer.name] = why_none(consumer)
        return
    wanted = state.wanted(consumer)
    if len(chosen) < wanted:
        asks = f"all {wanted} GPUs eligible for it" if request.count_all else f"{wanted} GPUs"
        diag.warning("PLACE006", f"{consumer.name} asks for {asks} but gets {len(chosen)}: "
                     f"{why_none(consumer)} beyond {', '.join(chosen)}", request.path)
    state.assign(consumer, chosen)


def _components(state: _State, order: list[Consumer]) -> list[list[Consumer]]:
    """Split `order` into groups that can share no GPU (each keeps its order): they are searched apart."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for consumer in order:
        root = find("c:" + consumer.name)
        for gpu in _options(state, consumer):
            parent[find("g:" + gpu.key)] = root
    groups: dict[str, list[Consumer]] = {}
    for consumer in order:
        groups.setdefault(find("c:" + consumer.name), []).append(consumer)
    return list(groups.values())


def _cannot_fit(state: _State, group: list[Consumer]) -> bool:
    """A group whose smallest possible demand exceeds the free VRAM of all its GPUs: no search can help."""
    gpus = {g.key: g for c in group for g in _options(state, c)}
    demand = sum(state.wanted(c) * min((state.charge(c, g) for g in _options(state, c)), default=0.0)
                 for c in group)
    return demand > sum(max(state.free(k), 0.0) for k in gpus) + 1e-9


def _place_ranked(state: _State, order: list[Consumer], rank_for: RankFor, diag: Diagnostics) -> None:
    """Per group of consumers that can share GPUs: search for an assignment that fits (alone on a
    GPU first, under `exclusive`), else greedy.

    The search steps are shared: NODE_BUDGET for the whole placement, and for one group at
    most GROUP_BUDGET_PER_CONSUMER per consumer (at least GROUP_BUDGET_MIN), so a large input
    that cannot fit falls back to greedy quickly while a small one is searched to the end.
    """
    order = [c for c in order if c.name not in state.placed]
    for group in _components(state, order):
        placed = False
        if not _cannot_fit(state, group):
            for no_share in ((True, False) if state.exclusive else (False,)):
                budget = min(state.budget, max(GROUP_BUDGET_MIN, GROUP_BUDGET_PER_CONSUMER * len(group)))
                used = _search(state, group, rank_for, no_share, budget)
                state.budget -= used if used >= 0 else budget
                if used >= 0:
                    placed = True
                    break
        if not placed:
            _greedy(state, group, rank_for, diag)


def _by_vram(consumers: Iterable[Consumer]) -> list[Consumer]:
    return sorted(consumers, key=lambda c: (-c.request.vram_gb, c.name))


def _owners_first(state: _State, rest: list[Consumer]) -> tuple[list[Consumer], list[Consumer]]:
    """Consumers that own their GPU come first (largest request first), then the others."""
    alone = _by_vram(c for c in rest if state.alone(c))
    return alone, [c for c in rest if not state.alone(c)]


def _balanced(state: _State, rest: list[Consumer], diag: Diagnostics) -> BalanceReport | None:
    """Minimise the variance of utilisation across GPUs within capacity (balance.py).

    Passthrough VMs and consumers asking for several GPUs are placed first, by
    vram_based's search over everyone (so their GPUs leave the others room);
    then the optimiser places the rest.
    """
    single = sorted((c for c in rest if state.wanted(c) == 1 and not state.alone(c)), key=lambda c: c.name)
    scratch = Diagnostics(diag.document, diag.default_file)
    VramBased().place(state, rest, scratch)
    for consumer in single:
        state.unassign(consumer)
    # Keep what the first pass said about the consumers it settles; the optimiser speaks for the rest.
    redone = {format_path(c.path) for c in single}
    diag.extend(f for f in scratch.findings if not any(f.path == p or f.path.startswith(p + ".") for p in redone))
    domain = [k for k, g in state.infra.gpus.items()
              if g.status != "unavailable" and k not in state.alone_taken and state.usable(g) > 0]
    index = {k: i for i, k in enumerate(domain)}
    capacity = [state.usable(state.infra.gpus[k]) for k in domain]
    items, movable = [], []
    for consumer in single:
        options = [g for g in _options(state, consumer) if g.key in index]
        # The previous GPU first: among equally balanced answers the search keeps it.
        options.sort(key=lambda g: (not state.was_on(consumer, g.key), g.key))
        if not options:
            _record(state, consumer, [], diag)
            continue
        items.append(balance.Item(tuple(index[g.key] for g in options),
                                  tuple(state.charge(consumer, g) for g in options)))
        movable.append(consumer)
    if not domain:
        return None
    load0 = [state.used[k] for k in domain]
    occupied0 = [len(state.on_gpu[k]) for k in domain]
    result = balance.solve(items, load0, capacity, exclusive=state.exclusive, occupied0=occupied0)
    if not result.feasible and state.exclusive:
        result = balance.solve(items, load0, capacity, exclusive=False, occupied0=occupied0)
    choice: tuple[int | None, ...] | list[int | None] = result.choice
    if not result.feasible:
        # Nothing fits within capacity: warn but allow, with the most even spread over capacity.
        choice, _ = balance.heuristic(items, load0, capacity, within_capacity=False)
    for consumer, index_ in zip(movable, choice):
        _record(state, consumer, [domain[index_]] if index_ is not None else [], diag)
    final = [state.used[k] for k in domain]
    achieved = balance.variance(final, capacity)
    loads = [used / cap for used, cap in zip(final, capacity)]
    if result.exact and result.feasible:
        return BalanceReport("exact", achieved, achieved, max(loads), min(loads))
    method = "heuristic" if result.feasible else "heuristic, over capacity"
    return BalanceReport(method, achieved, min(result.lower_bound, achieved), max(loads), min(loads))


class Strategy:
    """A placement strategy: what the frame (pins, the search, the report) asks of it.

    A new strategy is one subclass and one entry in STRATEGIES (the schema's
    `placement.strategy` enum and `psot place --strategy` must list it: tests/placement/test_strategies.py).
    The default `place` runs the ranked search over `order`, ranking GPUs by `rank_for`.
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

    def rank_for(self, state: _State, consumer: Consumer) -> Rank:
        return rank_largest if state.alone(consumer) else rank_vram

    def place(self, state: _State, rest: list[Consumer], diag: Diagnostics) -> BalanceReport | None:
        _place_ranked(state, self.order(state, rest), self.rank_for, diag)
        return None


class Manual(Strategy):
    """Only pins: every consumer without a usable pin is an error (PLACE005)."""

    name = "manual"
    searches = False

    def place(self, state: _State, rest: list[Consumer], diag: Diagnostics) -> BalanceReport | None:
        for consumer in rest:
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

    def rank_for(self, state: _State, consumer: Consumer) -> Rank:
        if state.alone(consumer):
            return rank_largest
        return rank_fastest if consumer.request.latency_critical else rank_spread


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
    placement = Placement(
        strategy=strategy,
        assignments={
            name: Assignment(state.placed.get(name, ()), c.request.vram_gb, budgets.get(name),
                             _fallback(state, c))
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
        pinned = infra.gpus.get(consumer.request.pin_gpu) if consumer.request.pin_gpu else None
        if pinned is not None and status(consumer, pinned) == "unavailable":
            state.pin_lost[consumer.name] = pinned.key
            pinned = None
        if pinned is None:
            rest.append(consumer)
            continue
        # Pins win in every strategy; a count > 1 takes its other GPUs by vram_based's rank.
        extra = _pick(state, consumer, [g for g in _options(state, consumer) if g is not pinned],
                      rank_vram, state.wanted(consumer) - 1, must_fit=False, no_share=False)
        _record(state, consumer, [pinned.key] + (extra or []), diag)
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


def _fallback(state: _State, consumer: Consumer) -> tuple[str, ...]:
    """Where the consumer would go if its GPU failed: other eligible GPUs, best first.

    A passthrough VM can only move to a GPU nobody uses; nobody moves onto a
    passed-through GPU. Then: `ok` before `degraded`, GPUs it fits on before
    others, most free VRAM, name.
    """
    own = set(state.placed.get(consumer.name, ()))
    if not own:
        return ()
    others = [g for g in state.eligible(consumer) if g.key not in own
              and not (consumer.request.passthrough and state.on_gpu[g.key])
              and g.key not in state.alone_taken]
    # Free VRAM is a float sum whose last bits depend on the order consumers were added (a
    # search that starts from the previous placement adds them in another order): rounded,
    # equal GPUs tie and go by name, and a second sync of the same input orders them the same.
    others.sort(key=lambda g: (status(consumer, g) == "degraded", state.free(g.key) < state.charge(consumer, g),
                               -round(state.free(g.key), 6), g.key))
    return tuple(g.key for g in others)
