"""Brute-force oracles for the placement property tests (tests/placement/test_placement_properties.py).

Deliberately independent of generator/: they read the infra.yml document
(a plain dict) and re-derive eligibility, pins, charges and capacities from
SPEC §2 and §4, then enumerate every assignment. Only usable on small
inputs (every consumer `count: 1`, a handful of consumers and GPUs).

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
              passthrough: bool = True, policies: Sequence[str] = ("shared", "exclusive")) -> dict:
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
                                    bool(r.get("passthrough", False)))
    glob = doc["global"]
    return Problem(dict(sorted(gpus.items())), dict(sorted(consumers.items())),
                   glob.get("gpu_policy", "exclusive") == "exclusive",
                   float(glob.get("placement", {}).get("headroom_gb", 0.5)))


def _assignments(options: Mapping[str, Sequence[str]]) -> Iterator[dict[str, str]]:
    names = list(options)
    for combo in itertools.product(*(options[n] for n in names)):
        yield dict(zip(names, combo))


# ---------------------------------------------------------------------------
# Oracle 1: does an assignment within capacity exist at all?
# ---------------------------------------------------------------------------

def feasible_assignment(p: Problem, fixed: Mapping[str, Sequence[str]] | None = None) -> dict[str, str] | None:
    """An assignment of every placeable consumer within every constraint, or None.

    A consumer pinned to an available GPU stays on it; the others go to an
    eligible GPU (a consumer without any eligible GPU cannot be placed by any
    strategy and is left out). Constraints: usable capacity (vram_gb -
    headroom_gb) with each consumer's charge, a passthrough consumer alone
    on its GPU, and at most one consumer per GPU under `exclusive`.

    `fixed`: consumers whose GPU is given (an empty tuple: left out).
    """
    fixed = fixed or {}
    options: dict[str, list[str]] = {}
    for name in p.consumers:
        pin = p.live_pin(name)
        choices = list(fixed[name]) if name in fixed else [pin] if pin is not None else p.eligible(name)
        if choices:
            options[name] = choices
    for assignment in _assignments(options):
        if _within(p, assignment, p.exclusive):
            return assignment
    return None


def _within(p: Problem, assignment: Mapping[str, str], exclusive: bool) -> bool:
    load = {k: 0.0 for k in p.gpus}
    on: dict[str, list[str]] = {k: [] for k in p.gpus}
    for name, key in assignment.items():
        load[key] += p.charge(name, key)
        on[key].append(name)
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
    domain: tuple[str, ...]                  # GPUs the variance is taken over
    variance: float | None                   # None: no feasible assignment of the movable consumers
    exclusive_feasible: bool                 # an assignment with one consumer per GPU exists
    choice: Mapping[str, str] | None         # one optimal assignment of the movable consumers


def balanced_optimum(p: Problem, placed: Mapping[str, Sequence[str]]) -> BalanceOptimum:
    """Minimum variance over the assignments of `balanced`'s movable consumers.

    The frame of placement.py is taken as the placement made it: pinned
    consumers (available pin) on their pin, passthrough consumers where they
    were put (`placed`). The variance is over the GPUs that are not
    unavailable, not passed through, and have usable capacity; utilisation
    = used / usable. Every other consumer (count 1) goes to one of its
    eligible GPUs in that domain; those without one are left out. An
    assignment is feasible when every GPU that receives a movable consumer
    ends within capacity (GPUs the frame alone overfills do not make it
    infeasible: pins win). Under `exclusive`, an assignment with one
    consumer per GPU is preferred when one exists (counting the frame's
    consumers too), else any within capacity.
    """
    frame = {n for n in p.consumers if p.live_pin(n) is not None or p.consumers[n].passthrough}
    passed = {k for n in p.consumers if p.consumers[n].passthrough for k in placed.get(n, ())}
    domain = tuple(k for k, g in p.gpus.items()
                   if g.status != "unavailable" and k not in passed and p.usable(k) > 0)
    capacity = [p.usable(k) for k in domain]
    load0 = {k: 0.0 for k in p.gpus}
    count0 = {k: 0 for k in p.gpus}
    for n in frame:
        for k in placed.get(n, ()):
            load0[k] += p.charge(n, k)
            count0[k] += 1
    options = {}
    for n in p.consumers:
        if n in frame:
            continue
        choices = [k for k in p.eligible(n) if k in domain]
        if choices:
            options[n] = choices
    best: dict[bool, tuple[float, dict[str, str]] | None] = {True: None, False: None}
    for assignment in _assignments(options):
        load = dict(load0)
        count = {k: 0 for k in p.gpus}
        for n, k in assignment.items():
            load[k] += p.charge(n, k)
            count[k] += 1
        if any(load[k] > p.usable(k) + EPS for k in count if count[k]):
            continue
        one_each = all(count[k] + count0[k] <= 1
                       for k in count if count[k])
        value = variance([load[k] for k in domain], capacity)
        for kind in ((True, False) if one_each else (False,)):
            if best[kind] is None or value < best[kind][0]:
                best[kind] = (value, assignment)
    chosen = best[True] if p.exclusive and best[True] is not None else best[False]
    return BalanceOptimum(domain, None if chosen is None else chosen[0], best[True] is not None,
                          None if chosen is None else chosen[1])
