"""Brute-force oracles for the placement property tests (tests/placement/test_placement_properties.py).

Deliberately independent of generator/: they read the infra.yml document
(a plain dict) and re-derive eligibility, pins, charges and capacities from
SPEC §2 and §4, then enumerate every assignment: each consumer gets `count`
GPUs of one host (as many as its host has when fewer; with a pin, the pin and
the others of its host), each charged its request. Only usable on small
inputs (a handful of consumers and GPUs).

Also here: the input generator shared by the hypothesis strategies and the
fixed-seed inputs of the subprocess determinism test (`build_doc` draws
through a `Chooser`, backed either by hypothesis or by `random.Random`).
"""

from __future__ import annotations

import itertools
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EPS = 1e-9

# ---------------------------------------------------------------------------
# Input generation
# ---------------------------------------------------------------------------

GPU_VRAM = (4, 8, 12, 16, 24)
COMPUTE = ("7.5", "8.6", "12.0")
REQUEST_VRAM = (0, 1, 2, 3.5, 4, 6, 7.5, 8, 10, 12, 20)
BUDGET_GB = (2, 3.5, 6.8, 12)
HOST_NAMES = ("ws", "node-2")


class Chooser(ABC):
    """The few kinds of draw build_doc needs (from hypothesis, or from a seeded random.Random)."""

    @abstractmethod
    def choice(self, options: Sequence[Any]) -> Any: ...

    @abstractmethod
    def integer(self, low: int, high: int) -> int: ...

    def chance(self, weight: int, out_of: int) -> bool:
        """True `weight` times in `out_of` (as a choice, so hypothesis shrinks it towards False)."""
        return self.choice([False] * (out_of - weight) + [True] * weight)


class RandomChooser(Chooser):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


class DrawChooser(Chooser):
    """Backed by a hypothesis `draw` (see the strategies in the test module)."""

    def __init__(self, draw: Callable, st: Any):
        self.draw, self.st = draw, st

    def choice(self, options: Sequence[Any]) -> Any:
        return self.draw(self.st.sampled_from(list(options)))

    def integer(self, low: int, high: int) -> int:
        return self.draw(self.st.integers(low, high))

    def chance(self, weight: int, out_of: int) -> bool:
        # An integer shrinks towards 0, i.e. towards False.
        return self.draw(self.st.integers(0, out_of - 1)) >= out_of - weight


def build_doc(ch: Chooser, *, max_consumers: int = 6, max_gpus: int = 3, pins: bool = True,
              passthrough: bool = True, counts: bool = True,
              policies: Sequence[str] = ("shared", "exclusive")) -> dict:
    """An infra.yml document: 1-2 docker hosts, at most `max_gpus` GPUs, compose workloads."""
    n_hosts = ch.integer(1, min(2, max_gpus))
    hosts: dict[str, Any] = {}
    left = max_gpus
    for h in range(n_hosts):
        name = HOST_NAMES[h]
        n_gpus = ch.integer(1, min(3, left - (n_hosts - h - 1)))
        left -= n_gpus
        gpus = {}
        for j in range(n_gpus):
            vendor = ch.choice(("nvidia", "nvidia", "nvidia", "amd"))
            gpu: dict[str, Any] = {"vendor": vendor, "vram_gb": ch.choice(GPU_VRAM), "index": j,
                                   "pci": f"0000:0{j + 1}:00.0"}
            if vendor == "nvidia":
                gpu["compute_capability"] = ch.choice(COMPUTE)
            status = ch.choice(("ok", "ok", "ok", "ok", "ok", "degraded", "unavailable"))
            if status != "ok":
                gpu["status"] = status
            # The same GPU names on both hosts: a bare pin is narrowed to the workload's host.
            gpus[f"g{j}"] = gpu
        hosts[name] = {"platform": "docker", "iommu": True, "gpus": gpus}
    workloads: dict[str, Any] = {}
    for i in range(ch.integer(1, max_consumers)):
        host = ch.choice(sorted(hosts))
        request: dict[str, Any] = {"vram_gb": ch.choice(REQUEST_VRAM)}
        here = hosts[host]["gpus"]
        # Mostly a vendor the host has (else FIT003 stops the compile), sometimes any other.
        vendor = ch.choice((None, None, None, "any", sorted({g["vendor"] for g in here.values()})[0],
                            ch.choice(("nvidia", "amd"))))
        if vendor is not None:
            request["vendor"] = vendor
        if vendor in (None, "nvidia") and ch.chance(1, 4):
            met = [c for c in ("7.0", "8.0", "8.6")
                   if any(_cc(g.get("compute_capability") or "0.0") >= _cc(c) for g in here.values())]
            request["min_compute_capability"] = ch.choice(met if met and not ch.chance(1, 6)
                                                          else ("7.0", "8.0", "8.6"))
        if pins and ch.chance(1, 3):
            # Mostly a GPU the request accepts (else FIT001/FIT002 stop the compile).
            accepted = sorted(n for n, g in here.items() if vendor in (None, "any", g["vendor"])
                              and _cc(g.get("compute_capability") or "0.0")
                              >= _cc(request.get("min_compute_capability") or "0.0"))
            gpu_name = ch.choice(accepted if accepted and not ch.chance(1, 6) else sorted(here))
            request["pin"] = ch.choice((gpu_name, f"{host}/{gpu_name}"))
        if ch.chance(1, 4):
            request["budget"] = {"env": "VRAM_BUDGET_GB", "gb": ch.choice(BUDGET_GB)}
        if passthrough and ch.chance(1, 6):
            request["passthrough"] = True
        if ch.chance(1, 5):
            request["latency_critical"] = True
        if ch.chance(1, 5):
            request["isolate"] = True
        if counts and ch.chance(1, 5):
            request["count"] = ch.choice((2, 3))
        # Names that do not sort as they were drawn, so name order matters.
        workloads[f"{ch.choice(('svc', 'llm', 'app'))}-{i}"] = {"target": "compose", "host": host, "gpu": request}
    return {
        "project_name": "prop",
        "global": {"gpu_policy": ch.choice(tuple(policies)),
                   "placement": {"headroom_gb": ch.choice((0, 0.5))}},
        "domains": {},
        "hosts": hosts,
        "workloads": workloads,
    }


# ---------------------------------------------------------------------------
# The problem, re-derived from the document
# ---------------------------------------------------------------------------

def _cc(text: str | None) -> tuple[int, ...] | None:
    return tuple(int(x) for x in text.split(".")) if text else None


@dataclass(frozen=True)
class OGpu:
    key: str
    host: str
    name: str
    vendor: str
    vram_gb: float
    cc: tuple[int, ...] | None
    status: str


@dataclass(frozen=True)
class OConsumer:
    name: str
    host: str
    vram_gb: float
    vendor: str
    min_cc: tuple[int, ...] | None
    pin: str | None            # resolved host/gpu
    budget_gb: float | None
    passthrough: bool
    count: int = 1
    isolate: bool = False


@dataclass(frozen=True)
class Problem:
    gpus: Mapping[str, OGpu]
    consumers: Mapping[str, OConsumer]
    exclusive: bool
    headroom: float

    def usable(self, key: str) -> float:
        return max(self.gpus[key].vram_gb - self.headroom, 0.0)

    def charge(self, name: str, key: str) -> float:
        c = self.consumers[name]
        if c.budget_gb is not None:
            # A budget without vram_gb is charged the budget (README, Placement).
            return min(c.vram_gb if c.vram_gb > 0 else c.budget_gb, c.budget_gb, self.usable(key))
        return c.vram_gb

    def eligible(self, name: str) -> list[str]:
        c = self.consumers[name]
        out = []
        for key, g in self.gpus.items():
            if g.host != c.host or g.status == "unavailable":
                continue
            if c.vendor not in ("any", g.vendor):
                continue
            if c.min_cc is not None and (g.cc is None or g.cc < c.min_cc):
                continue
            out.append(key)
        return out

    def options(self, name: str) -> list[tuple[str, ...]]:
        """The sets of GPUs the consumer may get, sorted: `count` of one host (as many as the best host has
        when fewer), its live pin among them; [] when no GPU can take it."""
        pin = self.live_pin(name)
        eligible = self.eligible(name)
        per_host: dict[str, list[str]] = {}
        for key in eligible:
            per_host.setdefault(self.gpus[key].host, []).append(key)
        if pin is not None:
            others = [k for k in per_host.get(self.gpus[pin].host, []) if k != pin]
            need = min(self.consumers[name].count, len(others) + 1)
            return [tuple(sorted((pin,) + rest)) for rest in itertools.combinations(others, need - 1)]
        if not per_host:
            return []
        need = min(self.consumers[name].count, max(len(keys) for keys in per_host.values()))
        return [combo for keys in per_host.values() for combo in itertools.combinations(keys, need)]

    def live_pin(self, name: str) -> str | None:
        """The pinned GPU when it is available (a pin to an unavailable GPU falls back)."""
        pin = self.consumers[name].pin
        return pin if pin is not None and self.gpus[pin].status != "unavailable" else None


def problem_of(doc: Mapping[str, Any]) -> Problem:
    gpus = {}
    for host, spec in doc["hosts"].items():
        for name, g in spec["gpus"].items():
            gpus[f"{host}/{name}"] = OGpu(f"{host}/{name}", host, name, g["vendor"], float(g["vram_gb"]),
                                          _cc(g.get("compute_capability")), g.get("status", "ok"))
    consumers = {}
    for name, w in doc["workloads"].items():
        r = w["gpu"]
        pin = r.get("pin")
        resolved = None
        if pin is not None:
            if "/" in pin:
                resolved = pin if pin in gpus else None
            else:
                matches = [k for k, g in gpus.items() if g.name == pin]
                if len(matches) > 1:
                    matches = [k for k in matches if gpus[k].host == w["host"]]
                resolved = matches[0] if len(matches) == 1 else None
        consumers[name] = OConsumer(name, w["host"], float(r.get("vram_gb", 0)), r.get("vendor", "any"),
                                    _cc(r.get("min_compute_capability")), resolved,
                                    float(r["budget"]["gb"]) if "budget" in r else None,
                                    bool(r.get("passthrough", False)), int(r.get("count", 1)),
                                    bool(r.get("isolate", False)))
    glob = doc["global"]
    return Problem(dict(sorted(gpus.items())), dict(sorted(consumers.items())),
                   glob.get("gpu_policy", "exclusive") == "exclusive",
                   float(glob.get("placement", {}).get("headroom_gb", 0.5)))


def _assignments(options: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    names = list(options)
    for combo in itertools.product(*(options[n] for n in names)):
        yield dict(zip(names, combo))


# ---------------------------------------------------------------------------
# Oracle 1: does an assignment within capacity exist at all?
# ---------------------------------------------------------------------------

def feasible_assignment(p: Problem, fixed: Mapping[str, Sequence[tuple[str, ...]]] | None = None
                        ) -> dict[str, tuple[str, ...]] | None:
    """An assignment of every placeable consumer within every constraint, or None.

    Each consumer gets one of its `options` (its live pin among them); a
    consumer no GPU can take cannot be placed by any strategy and is left out.
    Constraints: usable capacity (vram_gb - headroom_gb) with each consumer's
    charge on each of its GPUs, a passthrough consumer alone on each of its
    GPUs, and at most one consumer per GPU under `exclusive`. (`isolate` is a
    preference: isolation_first lets an isolated consumer share, PLACE007,
    rather than overflow.)

    `fixed`: consumers whose choices are given instead.
    """
    fixed = fixed or {}
    options: dict[str, list[tuple[str, ...]]] = {}
    for name in p.consumers:
        choices = list(fixed[name]) if name in fixed else p.options(name)
        if choices:
            options[name] = choices
    for assignment in _assignments(options):
        if _within(p, assignment, p.exclusive):
            return assignment
    return None


def loads(p: Problem, assignment: Mapping[str, Sequence[str]]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Per GPU: the VRAM charged and the consumers on it."""
    load = {k: 0.0 for k in p.gpus}
    on: dict[str, list[str]] = {k: [] for k in p.gpus}
    for name, keys in assignment.items():
        for key in keys:
            load[key] += p.charge(name, key)
            on[key].append(name)
    return load, on


def _within(p: Problem, assignment: Mapping[str, Sequence[str]], exclusive: bool) -> bool:
    load, on = loads(p, assignment)
    for key, names in on.items():
        if load[key] > p.usable(key) + EPS:
            return False
        if len(names) > 1 and (exclusive or any(p.consumers[n].passthrough for n in names)):
            return False
    return True


# ---------------------------------------------------------------------------
# Oracle 2: the least variance of utilisation `balanced` can reach
# ---------------------------------------------------------------------------

def variance(load: Sequence[float], capacity: Sequence[float]) -> float:
    n = len(load)
    if n == 0:
        return 0.0
    u = [load[i] / capacity[i] for i in range(n)]
    mean = sum(u) / n
    return sum((x - mean) ** 2 for x in u) / n


@dataclass(frozen=True)
class BalanceOptimum:
    variance: float | None                   # None: no feasible assignment of the movable consumers
    exclusive_feasible: bool                 # an assignment with one consumer per GPU exists
    choice: Mapping[str, tuple[str, ...]] | None   # one optimal assignment of the movable consumers
    domain: tuple[str, ...] = ()             # the GPUs the optimal variance is taken over


def balance_domain(p: Problem, assignment: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The GPUs `balanced` evens out: available, with usable capacity, not passed through to a VM."""
    passed = {k for n, keys in assignment.items() if p.consumers[n].passthrough for k in keys}
    return tuple(k for k, g in p.gpus.items() if g.status != "unavailable" and k not in passed and p.usable(k) > 0)


def balanced_optimum(p: Problem, placed: Mapping[str, Sequence[str]]) -> BalanceOptimum:
    """The joint minimum variance of utilisation over every consumer `balanced` may place.

    Pinned consumers with `count: 1` stay on their live pin (pins win); every
    other consumer, passthrough VMs and `count >= 2` ones included, takes any
    of its `options`. The variance is over `balance_domain` of the assignment
    (a GPU passed through leaves it); utilisation = used / usable. Feasible:
    a passthrough VM alone on its GPUs, and every GPU that receives a movable
    consumer within capacity (a GPU the pins alone overfill does not make it
    infeasible: pins win). Under `exclusive`, an assignment with one consumer
    per GPU (the pins' too) is preferred when one exists, else any feasible.
    `placed` (the placement under test) gives the pins' GPUs.
    """
    frame = {n: tuple(placed.get(n, ())) for n in p.consumers
             if p.live_pin(n) is not None and len(p.options(n)) == 1 and len(p.options(n)[0]) == 1}
    options = {n: p.options(n) for n in p.consumers if n not in frame and p.options(n)}
    best: dict[bool, tuple[float, dict[str, tuple[str, ...]], tuple[str, ...]] | None] = {True: None,
                                                                                          False: None}
    for assignment in _assignments(options):
        every = {**frame, **assignment}
        load, on = loads(p, every)
        moved = {k for keys in assignment.values() for k in keys}
        if any(load[k] > p.usable(k) + EPS for k in moved):
            continue
        if any(len(on[k]) > 1 and any(p.consumers[n].passthrough for n in on[k]) for k in moved):
            continue
        domain = balance_domain(p, every)
        if not domain:
            continue
        one_each = all(len(names) <= 1 for names in on.values())
        value = variance([load[k] for k in domain], [p.usable(k) for k in domain])
        for kind in ((True, False) if one_each else (False,)):
            if best[kind] is None or value < best[kind][0] - EPS:
                best[kind] = (value, assignment, domain)
    chosen = best[True] if p.exclusive and best[True] is not None else best[False]
    if chosen is None:
        return BalanceOptimum(None, best[True] is not None, None)
    return BalanceOptimum(chosen[0], best[True] is not None, chosen[1], chosen[2])


# ---------------------------------------------------------------------------
# Oracle 3: the least deviation `balanced`'s solver can reach, group by group
# ---------------------------------------------------------------------------

def deviation(utilisation: Sequence[float]) -> float:
    """sum |u - level| at the best level: a median minimises it, so try every value as the level."""
    return min((sum(abs(u - level) for u in utilisation) for level in utilisation), default=0.0)


def movable(p: Problem) -> list[str]:
    """Consumers balanced may move: all but the pinned `count: 1` ones (and those no GPU can take)."""
    return [n for n in p.consumers if p.options(n)
            and not (p.live_pin(n) is not None and len(p.options(n)) == 1 and len(p.options(n)[0]) == 1)]


def groups(p: Problem) -> list[tuple[list[str], list[str]]]:
    """Movable consumers joined through the GPUs they may use (their live pin included), with those GPUs."""
    out: list[tuple[set[str], set[str]]] = []
    for name in movable(p):
        gpus = set(p.eligible(name)) | ({p.live_pin(name)} - {None})
        joined = [g for g in out if g[1] & gpus]
        names, keys = {name}, set(gpus)
        for g in joined:
            out.remove(g)
            names |= g[0]
            keys |= g[1]
        out.append((names, keys))
    return [(sorted(n), sorted(k)) for n, k in out]


def group_deviation(p: Problem, keys: Sequence[str], assignment: Mapping[str, Sequence[str]]) -> float:
    """The deviation over a group's balanced GPUs: usable VRAM > 0, not passed through to a VM."""
    load, _ = loads(p, assignment)
    passed = {k for n, ks in assignment.items() if p.consumers[n].passthrough for k in ks}
    return deviation([load[k] / p.usable(k) for k in keys
                      if k not in passed and p.usable(k) > 0 and p.gpus[k].status != "unavailable"])


def deviation_optimum(p: Problem, placed: Mapping[str, Sequence[str]]) -> tuple[float, float] | None:
    """(the least sum over groups of their deviation, the placement's own sum), or None when a group
    has no feasible assignment. Per group, under `exclusive`, an assignment with one consumer per GPU of
    the group is preferred when one exists, as balanced prefers it."""
    frame = {n: tuple(placed.get(n, ())) for n in p.consumers if n not in movable(p)}
    best_total = own_total = 0.0
    for names, keys in groups(p):
        best: dict[bool, float | None] = {True: None, False: None}
        for assignment in _assignments({n: p.options(n) for n in names}):
            every = {**frame, **assignment}
            load, on = loads(p, every)
            moved = {k for ks in assignment.values() for k in ks}
            if any(load[k] > p.usable(k) + EPS for k in moved):
                continue
            if any(len(on[k]) > 1 and any(p.consumers[n].passthrough for n in on[k]) for k in moved):
                continue
            value = group_deviation(p, keys, every)
            for kind in ((True, False) if all(len(on[k]) <= 1 for k in keys) else (False,)):
                if best[kind] is None or value < best[kind]:
                    best[kind] = value
        chosen = best[True] if p.exclusive and best[True] is not None else best[False]
        if chosen is None:
            return None
        best_total += chosen
        own_total += group_deviation(p, keys, {n: tuple(ks) for n, ks in placed.items()})
    return best_total, own_total
