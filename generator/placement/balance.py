"""The `balanced` strategy's optimiser: spread VRAM so utilisation is as even as possible.

Given GPUs with a usable capacity and a load already on them (pins,
passthrough), and items (consumers) each with the GPUs it may use and the
VRAM it would take on each, choose one GPU per item so that every GPU stays
within capacity and the variance of utilisation (used / capacity) across the
GPUs is minimal.

Small inputs are solved exactly by branch and bound; the bound is the
optimum of a convex relaxation (loads may be split across GPUs, eligibility
ignored), solved exactly through its KKT conditions. Large inputs, or a
search that exceeds its node budget, get a heuristic (largest item first to
the GPU that keeps the variance lowest, then single moves while they
improve it) and report the gap between its variance and the relaxation's.

Pure arithmetic on lists of numbers: no I/O, deterministic (ties go to the
lower index, and callers index GPUs and items by name).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

EPS = 1e-9
# Exact search limits: beyond these the heuristic answers (and says so).
EXACT_MAX_ITEMS = 14
EXACT_MAX_GPUS = 4
NODE_BUDGET = 200_000


@dataclass(frozen=True)
class Item:
    options: tuple[int, ...]          # GPU indexes it may use, in preference order
    charge: tuple[float, ...]         # VRAM it takes on each option (same order)


@dataclass(frozen=True)
class Result:
    choice: tuple[int | None, ...]   # GPU index per item; None when it fits nowhere
    variance: float
    lower_bound: float
    exact: bool
    feasible: bool                    # every item placed within capacity


def variance(load: list[float], capacity: list[float]) -> float:
    n = len(load)
    if n == 0:
        return 0.0
    u = [load[g] / capacity[g] for g in range(n)]
    mean = sum(u) / n
    return sum((x - mean) ** 2 for x in u) / n


def relaxation_bound(lower: list[float], capacity: list[float], total: float) -> float:
    """min variance of u (u_g >= lower_g, sum capacity_g * u_g = total): a lower bound.

    Convex; the optimum has u_g = mean + k * capacity_g on the GPUs above their
    lower bound. Small inputs enumerate which GPUs sit at their lower bound
    (the KKT conditions pick the optimum); large ones search the mean.
    """
    n = len(lower)
    if n == 0:
        return 0.0
    if n <= 10:
        return _bound_exact(lower, capacity, total)
    return _bound_search(lower, capacity, total)


def _bound_exact(lower: list[float], capacity: list[float], total: float) -> float:
    n = len(lower)
    best = math.inf
    for mask in range((1 << n) - 1):      # mask = GPUs held at their lower bound; not all of them
        sb_l = sb_cl = sf_c = sf_c2 = 0.0
        free = 0
        for g in range(n):
            if mask >> g & 1:
                sb_l += lower[g]
                sb_cl += capacity[g] * lower[g]
            else:
                free += 1
                sf_c += capacity[g]
                sf_c2 += capacity[g] * capacity[g]
        a1, b1, r1 = n - free, -sf_c, sb_l
        a2, b2, r2 = sf_c, sf_c2, total - sb_cl
        det = a1 * b2 - b1 * a2
        if abs(det) < EPS:
            continue
        mean = (r1 * b2 - b1 * r2) / det
        k = (a1 * r2 - a2 * r1) / det
        value = 0.0
        ok = True
        for g in range(n):
            level = mean + k * capacity[g]
            if mask >> g & 1:
                if lower[g] < level - 1e-7:
                    ok = False
                    break
                value += (lower[g] - mean) ** 2
            else:
                if level < lower[g] - 1e-7:
                    ok = False
                    break
                value += (level - mean) ** 2
        if ok:
            best = min(best, value / n)
    if best == math.inf:  # all at the lower bound: only when nothing is left to place
        return variance([lower[g] * capacity[g] for g in range(n)], capacity)
    return best


def _bound_search(lower: list[float], capacity: list[float], total: float) -> float:
    """The same optimum for many GPUs, as min over m of h(m) = min_u sum (u_g - m)^2.

    For a fixed m the inner problem is solved by u_g = max(lower_g, m + k c_g) with k set
    by the total (bisection); h is convex in m (a partial minimum of a jointly convex
    function), so a golden-section search finds its minimum, which is the relaxation's.
    """
    n = len(lower)

    def spread(m: float) -> float:
        lo, hi = -1e6, 1e6
        for _ in range(80):
            k = (lo + hi) / 2
            if sum(c * max(lw, m + k * c) for lw, c in zip(lower, capacity)) < total:
                lo = k
            else:
                hi = k
        return sum((max(lw, m + hi * c) - m) ** 2 for lw, c in zip(lower, capacity)) / n

    return spread(_golden_min(spread, min(lower) - 1.0, max(lower) + total / max(sum(capacity), EPS) + 1.0, 60))


@dataclass(frozen=True)
class Group:
    """GPUs whose load can only come from one set of consumers (a connected component of consumers and the
    GPUs they may use), and the range of that load: fixed load0 plus each consumer's least/largest charge."""
    gpus: tuple[int, ...]
    low: float
    high: float


def groups_of(items: list[Item], load0: list[float]) -> list[Group]:
    """The components of `items` over GPUs 0..len(load0)-1; a GPU no item may use is a group of its own."""
    return demand_groups([(it.options, min(it.charge), max(it.charge)) for it in items if it.options], load0)


def demand_groups(demands: Iterable[tuple[Sequence[int], float, float]], load0: list[float]) -> list[Group]:
    """Groups of GPUs from demands (the GPUs a demand may use, its least and largest charge in all), as
    groups_of: placement passes one demand per eligibility key when it has no items to build."""
    demands = list(demands)
    parent = list(range(len(load0)))

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for options, _, _ in demands:
        for g in options[1:]:
            parent[find(g)] = find(options[0])
    low = [0.0] * len(load0)
    high = [0.0] * len(load0)
    for options, least, most in demands:
        if options:
            root = find(options[0])
            low[root] += least
            high[root] += most
    members: dict[int, list[int]] = {}
    for g in range(len(load0)):
        members.setdefault(find(g), []).append(g)
    return [Group(tuple(gs), sum(load0[g] for g in gs) + low[root], sum(load0[g] for g in gs) + high[root])
            for root, gs in sorted(members.items())]


def spread_bound(groups: list[Group], capacity: list[float]) -> float:
    """A lower bound on the variance of utilisation of any placement: each group's load stays on its GPUs.

    Relaxed: load may be split among a group's GPUs (capacity and the load already on a GPU ignored), and a
    group's total is anywhere in [low, high]. For a mean m, a group C of usable capacities c_g is best at
    u_g = m + k c_g, which costs (T - m S)^2 / Q (S = sum c_g, Q = sum c_g^2, T its total nearest to m S);
    the variance is at least (1/n) min over m of the sum of these, convex in m (golden-section search, each
    step linear in groups). One group whose total can be spread evenly gives 0: only imbalance between
    groups (hosts, vendors) is certified. Linear in GPUs, so it runs at any size.
    """
    n = sum(len(g.gpus) for g in groups)
    if n == 0:
        return 0.0
    terms = []
    for group in groups:
        s = sum(capacity[g] for g in group.gpus)
        q = sum(capacity[g] ** 2 for g in group.gpus)
        terms.append((s, q, group.low, group.high))

    def cost(m: float) -> float:
        total = 0.0
        for s, q, low, high in terms:
            aim = m * s
            miss = low - aim if aim < low else aim - high if aim > high else 0.0
            total += miss * miss / q
        return total / n

    # The search ends within float noise of the minimum; shave it off so the bound stays below it.
    return max(cost(_golden_min(cost, 0.0, max(high / s for s, _, _, high in terms) + 1.0, 100)) - 1e-12, 0.0)



def _golden_min(f: Callable[[float], float], a: float, b: float, steps: int) -> float:
    """The middle of [a, b] after `steps` golden-section steps towards the minimum of a convex f."""
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(steps):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if f(c) <= f(d):
            b = d
        else:
            a = c
    return (a + b) / 2

def heuristic(items: list[Item], load0: list[float], capacity: list[float],
              exclusive: bool = False, within_capacity: bool = True,
              occupied0: list[int] | None = None) -> tuple[list[int | None], list[float]]:
    """Largest item first to the option that keeps variance lowest (within capacity), then
    single moves that lower it, until none does (or 20 passes).

    `within_capacity=False` ignores capacity (utilisation may pass 1): the most even
    spread when nothing fits, for warn-but-allow.
    """
    limit = 1.0 if within_capacity else math.inf
    n = len(capacity)
    load = list(load0)
    count = list(occupied0) if occupied0 is not None else [0] * n
    sum_u = sum(load[g] / capacity[g] for g in range(n))
    sum_u2 = sum((load[g] / capacity[g]) ** 2 for g in range(n))
    order = sorted(range(len(items)), key=lambda i: (-max(items[i].charge, default=0.0), i))
    choice: list[int | None] = [None] * len(items)

    def delta(g: int, w: float) -> float:
        """Change of n * variance * n when adding w (may be negative) to GPU g."""
        u_old = load[g] / capacity[g]
        u_new = (load[g] + w) / capacity[g]
        new_sum_u = sum_u - u_old + u_new
        new_sum_u2 = sum_u2 - u_old * u_old + u_new * u_new
        return new_sum_u2 / n - (new_sum_u / n) ** 2

    def apply(g: int, w: float, c: int) -> None:
        nonlocal sum_u, sum_u2
        u_old = load[g] / capacity[g]
        load[g] += w
        count[g] += c
        u_new = load[g] / capacity[g]
        sum_u += u_new - u_old
        sum_u2 += u_new * u_new - u_old * u_old

    for i in order:
        item = items[i]
        best = None
        for g, w in zip(item.options, item.charge):
            if load[g] + w > limit * capacity[g] + EPS or (exclusive and count[g]):
                continue
            score = (delta(g, w), g)
            if best is None or score < best[0]:
                best = (score, g, w)
        if best is not None:
            choice[i] = best[1]
            apply(best[1], best[2], 1)
    for _ in range(20):
        improved = False
        current = sum_u2 / n - (sum_u / n) ** 2
        for i in order:
            g_old = choice[i]
            if g_old is None:
                continue
            item = items[i]
            w_old = item.charge[item.options.index(g_old)]
            apply(g_old, -w_old, -1)
            move = (current - 1e-12, g_old, w_old)
            for g, w in zip(item.options, item.charge):
                if g == g_old or load[g] + w > limit * capacity[g] + EPS or (exclusive and count[g]):
                    continue
                value = delta(g, w)
                if value < move[0]:
                    move = (value, g, w)
            apply(move[1], move[2], 1)
            if move[1] != g_old:
                choice[i] = move[1]
                improved = True
                current = sum_u2 / n - (sum_u / n) ** 2
        if not improved:
            break
    return choice, load


def solve(items: list[Item], load0: list[float], capacity: list[float], exclusive: bool = False,
          node_budget: int = NODE_BUDGET, occupied0: list[int] | None = None) -> Result:
    """Place every item within capacity with the least variance of utilisation.

    `occupied0`: how many consumers each GPU already holds (under `exclusive` an item
    only goes to an empty GPU).
    """
    n = len(capacity)
    total = sum(load0) + sum(min(it.charge, default=0.0) for it in items)
    root_bound = relaxation_bound([load0[g] / capacity[g] for g in range(n)], capacity, total) \
        if all(min(it.charge, default=0) == max(it.charge, default=0) for it in items) else 0.0
    root_bound = max(root_bound, spread_bound(groups_of(items, load0), capacity))
    h_choice, h_load = heuristic(items, load0, capacity, exclusive, occupied0=occupied0)
    h_feasible = all(c is not None for c in h_choice)
    best_choice = list(h_choice)
    best_value = variance(h_load, capacity) if h_feasible else math.inf
    if len(items) > EXACT_MAX_ITEMS or n > EXACT_MAX_GPUS:
        return Result(tuple(best_choice), variance(h_load, capacity), root_bound, False, h_feasible)

    order = sorted(range(len(items)), key=lambda i: (-max(items[i].charge, default=0.0), i))
    # Suffix sums of the smallest charge still to place, and whether all charges left are fixed.
    rest_min = [0.0] * (len(order) + 1)
    fixed = [True] * (len(order) + 1)
    for pos in range(len(order) - 1, -1, -1):
        it = items[order[pos]]
        rest_min[pos] = rest_min[pos + 1] + min(it.charge, default=0.0)
        fixed[pos] = fixed[pos + 1] and min(it.charge, default=0) == max(it.charge, default=0)
    load = list(load0)
    count = list(occupied0) if occupied0 is not None else [0] * n
    current: list[int | None] = [None] * len(items)
    nodes = 0
    exhausted = False

    def dfs(pos: int) -> None:
        nonlocal best_value, best_choice, nodes, exhausted
        if exhausted:
            return
        nodes += 1
        if nodes > node_budget:
            exhausted = True
            return
        if pos == len(order):
            value = variance(load, capacity)
            if value < best_value - 1e-12:
                best_value, best_choice = value, list(current)
            return
        if fixed[pos]:
            bound = relaxation_bound([load[g] / capacity[g] for g in range(n)], capacity,
                                     sum(load) + rest_min[pos])
            if bound >= best_value - 1e-12:
                return
        i = order[pos]
        item = items[i]
        options = [(((load[g] + w) / capacity[g]), g, w) for g, w in zip(item.options, item.charge)
                   if load[g] + w <= capacity[g] + EPS and not (exclusive and count[g])]
        for _, g, w in sorted(options):
            load[g] += w
            count[g] += 1
            current[i] = g
            dfs(pos + 1)
            load[g] -= w
            count[g] -= 1
            current[i] = None

    dfs(0)
    feasible = best_value < math.inf
    if not feasible:
        return Result(tuple(h_choice), variance(h_load, capacity), root_bound, not exhausted, False)
    final = list(load0)
    for i, g in enumerate(best_choice):
        if g is not None:
            final[g] += items[i].charge[items[i].options.index(g)]
    value = variance(final, capacity)
    return Result(tuple(best_choice), value, value if not exhausted else root_bound, not exhausted, True)
