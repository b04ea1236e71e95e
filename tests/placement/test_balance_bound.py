"""balance.spread_bound: a lower bound on the variance of utilisation of every assignment, from the groups of
GPUs each set of consumers is held to (hosts, vendors), checked against brute force and on exact values."""

from __future__ import annotations

import itertools
import random

from generator.placement import balance


def brute_minimum(items: list[balance.Item], load0: list[float], capacity: list[float]) -> float:
    """The least variance over every assignment (capacity ignored, as the bound ignores it)."""
    best = float("inf")
    for choice in itertools.product(*(range(len(it.options)) for it in items)):
        load = list(load0)
        for item, pick in zip(items, choice):
            load[item.options[pick]] += item.charge[pick]
        best = min(best, balance.variance(load, capacity))
    return best


def test_the_bound_never_exceeds_the_best_assignment():
    rng = random.Random(3)
    positive = 0
    for _ in range(400):
        n = rng.randint(1, 4)
        capacity = [float(rng.choice([4, 8, 12, 24])) for _ in range(n)]
        load0 = [float(rng.choice([0, 0, 1, 3])) for _ in range(n)]
        items = []
        for _ in range(rng.randint(1, 5)):
            options = tuple(sorted(rng.sample(range(n), rng.randint(1, n))))
            want = rng.choice([1, 2, 3.5, 6])
            # Some budgeted: the charge shrinks to the GPU's usable VRAM.
            budgeted = rng.random() < 0.3
            items.append(balance.Item(options, tuple(min(want, capacity[g]) if budgeted else want for g in options)))
        bound = balance.spread_bound(balance.groups_of(items, load0), capacity)
        best = brute_minimum(items, load0, capacity)
        assert 0.0 <= bound <= best + 1e-9, (capacity, load0, items, bound, best)
        positive += bound > 1e-6
    assert positive >= 80   # it certifies something on many of them (83 of 400), not only 0


def test_groups_held_to_their_gpus_bound_the_spread_between_them():
    """Two hosts of one 10 GB GPU: 8 GB must go on the first, 2 GB on the second; utilisation 0.8 and 0.2,
    variance 0.09, and no assignment does better."""
    items = [balance.Item((0,), (8.0,)), balance.Item((1,), (2.0,))]
    groups = balance.groups_of(items, [0.0, 0.0])
    assert groups == [balance.Group((0,), 8.0, 8.0), balance.Group((1,), 2.0, 2.0)]
    assert abs(balance.spread_bound(groups, [10.0, 10.0]) - 0.09) <= 1e-9


def test_one_group_that_can_spread_evenly_certifies_nothing():
    items = [balance.Item((0, 1), (3.0, 3.0)), balance.Item((0, 1), (5.0, 5.0))]
    assert balance.spread_bound(balance.groups_of(items, [0.0, 0.0]), [10.0, 10.0]) == 0.0
