"""`balanced`'s exact solver for one group of GPUs that share consumers: a MIP solved by HiGHS.

Every consumer of the group is placed jointly: a passthrough VM on whole GPUs
nobody else uses, a `count: N` consumer on N distinct GPUs of one host (its pin
among them), at most one consumer per GPU under `exclusive`, every GPU within
its usable VRAM (a GPU the fixed load alone overfills takes nobody more).

What is minimised: the sum, over the group's balanced GPUs (usable VRAM > 0,
not passed through to a VM), of |utilisation - level|, utilisation being
used / usable VRAM and the level a free variable (at the optimum, the median
utilisation). The variance balanced reports is quadratic, which HiGHS's MIP
does not take (it solves QPs only without integers); this L1 deviation is its
linear counterpart, and it bounds it: for n GPUs whose deviation sum is D,
the variance is at least (D / n)^2 (mean |u - mean| >= mean |u - median|
and Jensen). After HiGHS, single-GPU moves that keep the deviation and
lower the variance polish the answer.

Ties go to each consumer's home GPUs (its previous placement, so a second sync
moves nothing, or step 1's): every GPU taken away from home costs
TIE_TOTAL / (GPUs taken in all), so the deviation is within TIE_TOTAL of the
least one and, among such placements, the fewest consumers move.

`exact` means HiGHS proved the deviation optimal (gap below ABS_GAP, plus the tie-break's TIE_TOTAL) within
MAX_NODES branch-and-bound nodes; the answer and the bound depend only on the
input, not on the machine's speed (one thread, seed 0; the node limit is the
work limit; TIME_LIMIT is only a safety net far above what MAX_NODES takes,
and an answer cut by it is thrown away rather than used, see `solve`).

highspy is imported only when a group is solved, so `psot validate` never
loads it. Pure data in and out: GPU and consumer indexes, no model objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

EPS = 1e-9
ABS_GAP = 1e-7          # HiGHS's absolute MIP gap: below it the deviation is proven optimal
TIE_TOTAL = 1e-5        # the most the low-churn tie-break (a cost per GPU away from home) adds in all
MAX_NODES = 500         # branch-and-bound nodes per group: the deterministic work limit
TIME_LIMIT = 30.0       # seconds; a safety net only (a group cut by it is left to the heuristic)
POLISH_PASSES = 20


@dataclass(frozen=True)
class Gpu:
    capacity: float      # usable VRAM (vram_gb - headroom_gb)
    load0: float         # VRAM already taken by consumers that do not move (pins)
    occupied0: int       # how many such consumers it holds
    host: str


@dataclass(frozen=True)
class Consumer:
    options: tuple[int, ...]      # GPU indexes it may take
    charge: tuple[float, ...]     # VRAM it takes on each option (same order)
    need: int                     # distinct GPUs of one host it takes
    pin: int | None               # a GPU that must be among them
    alone: bool                   # a passthrough VM: its GPUs hold nobody else and leave the balance
    home: tuple[int, ...] = ()    # its GPUs in the previous placement (step 1's without one): ties stay there


@dataclass(frozen=True)
class Answer:
    choice: tuple[tuple[int, ...], ...]   # GPU indexes per consumer, sorted
    deviation: float                      # the objective of the answer (see the module docstring)
    bound: float                          # no placement of the group has a lower deviation
    exact: bool
    balanced: int                         # GPUs the deviation is taken over (at most, over any placement)


def deviation(utilisation: Sequence[float]) -> float:
    """sum |u - level| at the best level (a median)."""
    if not utilisation:
        return 0.0
    ordered = sorted(utilisation)
    level = ordered[len(ordered) // 2]
    return sum(abs(u - level) for u in ordered)


def _variance(utilisation: Sequence[float]) -> float:
    if not utilisation:
        return 0.0
    mean = sum(utilisation) / len(utilisation)
    return sum((u - mean) ** 2 for u in utilisation) / len(utilisation)


class _Eval:
    """Loads of one assignment, its feasibility and its (deviation, variance)."""

    def __init__(self, gpus: Sequence[Gpu], consumers: Sequence[Consumer], exclusive: bool):
        self.gpus, self.consumers, self.exclusive = gpus, consumers, exclusive

    def score(self, choice: Sequence[Sequence[int]]) -> tuple[float, float] | None:
        load = [g.load0 for g in self.gpus]
        count = [g.occupied0 for g in self.gpus]
        vm = [False] * len(self.gpus)
        moved = [False] * len(self.gpus)
        for consumer, gs in zip(self.consumers, choice):
            for g in gs:
                load[g] += consumer.charge[consumer.options.index(g)]
                count[g] += 1
                moved[g] = True
                vm[g] = vm[g] or consumer.alone
        for g, gpu in enumerate(self.gpus):
            if not moved[g]:
                continue
            if load[g] > gpu.capacity + EPS or ((vm[g] or self.exclusive) and count[g] > 1):
                return None
        u = [load[g] / gpu.capacity for g, gpu in enumerate(self.gpus) if gpu.capacity > 0 and not vm[g]]
        return deviation(u), _variance(u)


def solve(gpus: Sequence[Gpu], consumers: Sequence[Consumer], exclusive: bool) -> Answer | None:
    """The group's placement of least deviation, or None when HiGHS finds none within its limits
    (no placement exists, or none was found in MAX_NODES nodes)."""
    import highspy
    import numpy as np

    inf = highspy.kHighsInf
    cols_lo: list[float] = []
    cols_hi: list[float] = []
    cost: list[float] = []
    integer: list[int] = []
    rows: list[tuple[float, float, dict[int, float]]] = []

    def column(lo: float, hi: float, c: float = 0.0, is_int: bool = True) -> int:
        cols_lo.append(lo)
        cols_hi.append(hi)
        cost.append(c)
        integer.append(1 if is_int else 0)
        return len(cols_lo) - 1

    # Consumers alike (same options and charges, one GPU, no pin) are one unit with a count per GPU, not a
    # binary each: far fewer columns and none of the symmetry that would make HiGHS branch on who is who.
    units: dict[tuple, list[int]] = {}
    for i, consumer in enumerate(consumers):
        key = (consumer.options, consumer.charge, consumer.alone) if consumer.need == 1 and consumer.pin is None \
            else (i,)
        units.setdefault(key, []).append(i)
    # No consumer more may go to a GPU its fixed load already overfills; none beside a fixed one under
    # exclusive, and no VM beside one.
    closed = [gpu.load0 > gpu.capacity + EPS for gpu in gpus]
    taken = sum(c.need for c in consumers)
    tie = TIE_TOTAL / max(taken, 1)
    x: list[tuple[Consumer, list[int], dict[int, int]]] = []
    for members in units.values():
        consumer, k = consumers[members[0]], len(members)
        cols = {}
        for g in consumer.options:
            shut = closed[g] or ((exclusive or consumer.alone) and gpus[g].occupied0 > 0)
            most = 0 if shut and g != consumer.pin else 1 if (exclusive or consumer.alone or consumer.need > 1) else k
            cols[g] = column(1.0 if g == consumer.pin else 0.0, float(most))
            home = sum(g in consumers[i].home for i in members)
            if home:
                # Low churn: each consumer on one of its home GPUs takes back its share of the offset.
                w = column(0.0, float(home), -tie, is_int=False)
                rows.append((-inf, 0.0, {w: 1.0, cols[g]: -1.0}))
        x.append((consumer, members, cols))
        rows.append((k * consumer.need, k * consumer.need, {cols[g]: 1.0 for g in consumer.options}))
        hosts = sorted({gpus[g].host for g in consumer.options})
        if consumer.need > 1 and len(hosts) > 1:
            z = {h: column(0.0, 1.0) for h in hosts}
            rows.append((1.0, 1.0, {z[h]: 1.0 for h in hosts}))
            for g in consumer.options:
                rows.append((-inf, 0.0, {cols[g]: 1.0, z[gpus[g].host]: -1.0}))
    top = max([1.0] + [gpu.load0 / gpu.capacity for gpu in gpus if gpu.capacity > 0])
    level = column(0.0, top, is_int=False)
    for g, gpu in enumerate(gpus):
        users = [(c, len(m), cols[g]) for c, m, cols in x if g in cols]
        vms = [col for c, _, col in users if c.alone]
        others = [(c, col) for c, _, col in users if not c.alone]
        if users:
            rows.append((-inf, max(gpu.capacity - gpu.load0, 0.0),
                         {col: c.charge[c.options.index(g)] for c, _, col in users}))
        if exclusive and len(users) > 1:
            rows.append((-inf, 1.0, {col: 1.0 for _, _, col in users}))
        if len(vms) > 1:
            rows.append((-inf, 1.0, {col: 1.0 for col in vms}))
        if vms and others:
            beside = float(sum(n for c, n, _ in users if not c.alone))
            rows.append((-inf, beside, {**{col: 1.0 for _, col in others}, **{col: beside for col in vms}}))
        if gpu.capacity <= 0:
            continue
        # d >= u - level and d >= level - u, both lifted by `top` when a VM takes the GPU (it leaves the sum).
        d = column(0.0, inf, 1.0, is_int=False)
        share = {col: c.charge[c.options.index(g)] / gpu.capacity for c, col in others}
        lift = {col: top for col in vms}
        u0 = gpu.load0 / gpu.capacity
        rows.append((u0, inf, {d: 1.0, level: 1.0, **{c: -v for c, v in share.items()}, **lift}))
        rows.append((-u0, inf, {d: 1.0, level: -1.0, **share, **lift}))

    lp = highspy.HighsLp()
    lp.offset_ = TIE_TOTAL if taken else 0.0
    lp.num_col_ = len(cols_lo)
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.array(cost, dtype=np.double)
    lp.col_lower_ = np.array(cols_lo, dtype=np.double)
    lp.col_upper_ = np.array(cols_hi, dtype=np.double)
    lp.row_lower_ = np.array([r[0] for r in rows], dtype=np.double)
    lp.row_upper_ = np.array([r[1] for r in rows], dtype=np.double)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    starts, index, value = [0], [], []
    for _, _, entries in rows:
        for col in sorted(entries):
            index.append(col)
            value.append(entries[col])
        starts.append(len(index))
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.double)
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in integer]
    h = highspy.Highs()
    for option, setting in (("output_flag", False), ("threads", 1), ("random_seed", 0),
                            ("mip_max_nodes", MAX_NODES), ("time_limit", TIME_LIMIT),
                            ("mip_rel_gap", 0.0), ("mip_abs_gap", ABS_GAP)):
        h.setOptionValue(option, setting)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kSolutionLimit) \
            or h.getInfo().primal_solution_status != 2:   # 2: a feasible solution
        return None
    values = h.getSolution().col_value
    choice: list[tuple[int, ...]] = [()] * len(consumers)
    for _, members, cols in x:
        slots = {g: round(values[col]) for g, col in cols.items()}
        if len(members) == 1:
            choice[members[0]] = tuple(sorted(g for g, n in slots.items() if n > 0))
            continue
        # Who goes where among consumers alike: each to a home GPU while it has room, the rest in order.
        rest: list[int] = []
        for i in members:
            spot = next((g for g in consumers[i].home if slots.get(g, 0) > 0), None)
            if spot is None:
                rest.append(i)
            else:
                slots[spot] -= 1
                choice[i] = (spot,)
        free = [g for g in sorted(slots) for _ in range(slots[g])]
        for i, g in zip(rest, free):
            choice[i] = (g,)
    evaluate = _Eval(gpus, consumers, exclusive)
    if any(len(gs) != c.need for gs, c in zip(choice, consumers)) or evaluate.score(choice) is None:
        return None
    choice = _polish(evaluate, choice)
    score = evaluate.score(choice)
    assert score is not None
    # HiGHS's bound is on deviation + tie-break costs: less the most those can be, a bound on the deviation.
    bound = max(min(h.getInfo().mip_dual_bound - TIE_TOTAL, score[0]), 0.0)
    exact = status == highspy.HighsModelStatus.kOptimal
    return Answer(tuple(choice), score[0], bound, exact,
                  sum(gpu.capacity > 0 for gpu in gpus))


def no_better(gpus: Sequence[Gpu], consumers: Sequence[Consumer], exclusive: bool, answer: Answer,
              other: Sequence[tuple[int, ...]]) -> Answer | None:
    """`answer` with `other`'s placement (of the same consumers, e.g. the previous one) when the answer is
    no better, else None: `other` is valid (each consumer its `need` GPUs of its options on one host, its
    pin among them) and its (deviation, variance) is at most the answer's. Low churn for groups HiGHS did
    not prove: a second run, whose tie-break starts from the first answer, could find another one."""
    for consumer, gs in zip(consumers, other):
        if len(set(gs)) != consumer.need or not set(gs) <= set(consumer.options) \
                or len({gpus[g].host for g in gs}) != 1 or (consumer.pin is not None and consumer.pin not in gs):
            return None
    evaluate = _Eval(gpus, consumers, exclusive)
    mine, theirs = evaluate.score(answer.choice), evaluate.score(other)
    if mine is None or theirs is None or theirs[0] > mine[0] + EPS or theirs[1] > mine[1] + 1e-12:
        return None
    return replace(answer, choice=tuple(tuple(gs) for gs in other), deviation=theirs[0],
                   bound=min(answer.bound, theirs[0]))


def _polish(evaluate: _Eval, choice: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Single-GPU moves (of consumers with one GPU, no pin, no VM) that lower (deviation, variance)
    lexicographically, first improvement, consumers and GPUs in index order: deterministic."""
    gpus, consumers = evaluate.gpus, evaluate.consumers
    load = [g.load0 for g in gpus]
    count = [g.occupied0 for g in gpus]
    vm = [False] * len(gpus)
    for consumer, gs in zip(consumers, choice):
        for g in gs:
            load[g] += consumer.charge[consumer.options.index(g)]
            count[g] += 1
            vm[g] = vm[g] or consumer.alone
    balanced = [g for g in range(len(gpus)) if gpus[g].capacity > 0 and not vm[g]]

    def score() -> tuple[float, float]:
        u = [load[g] / gpus[g].capacity for g in balanced]
        return deviation(u), _variance(u)

    best = score()
    for _ in range(POLISH_PASSES):
        improved = False
        for i, consumer in enumerate(consumers):
            if consumer.need != 1 or consumer.pin is not None or consumer.alone:
                continue
            (old,) = choice[i]
            w_old = consumer.charge[consumer.options.index(old)]
            for g, w in zip(consumer.options, consumer.charge):
                if g == old or vm[g] or load[g] + w > gpus[g].capacity + EPS or (evaluate.exclusive and count[g]):
                    continue
                load[old] -= w_old
                load[g] += w
                trial = score()
                if trial[0] < best[0] - EPS or (trial[0] <= best[0] + EPS and trial[1] < best[1] - 1e-12):
                    count[old] -= 1
                    count[g] += 1
                    choice[i], best, improved, old, w_old = (g,), trial, True, g, w
                else:
                    load[g] -= w
                    load[old] += w_old
        if not improved:
            break
    return choice


def variance_bound(answers: Sequence[Answer], gpus: int) -> float:
    """A lower bound on the variance of utilisation over `gpus` GPUs (at most that many are balanced)
    from each group's deviation bound: the variance is at least its within-group part,
    (1/n) sum over groups of n_g * var_g, and var_g >= (D_g / n_g)^2 for a deviation sum D_g over n_g
    GPUs; n_g and n are at most the GPUs the group and the whole balance could count."""
    if gpus <= 0:
        return 0.0
    # Shaved by a relative 1e-9 so that float noise never lifts it above the variance it bounds.
    return sum(a.bound ** 2 / a.balanced for a in answers if a.balanced) / gpus * (1 - 1e-9)
