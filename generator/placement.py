"""Place stage: which GPU(s) every consumer gets, its VRAM budget, its fallbacks.

A pure function of the model: the same Infra gives the same Placement on
every run and machine (consumers and GPUs are visited in a fixed order and
every tie is broken by name).

Strategies implemented here: `vram_based` and `manual` (SPEC §4). The
others are refused with PLACE001 until they exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from generator.findings import Diagnostics, Finding
from generator.model import Consumer, Gpu, Infra

STRATEGIES_PLANNED = ("latency_optimized", "isolation_first", "balanced")


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
class Placement:
    strategy: str
    assignments: dict[str, Assignment]
    gpus: dict[str, GpuUse]
    unplaced: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=())

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
        }


class _State:
    """Mutable bookkeeping while one strategy runs."""

    def __init__(self, infra: Infra):
        self.infra = infra
        self.headroom = infra.headroom_gb
        self.used = {k: 0.0 for k in infra.gpus}
        self.on_gpu: dict[str, list[str]] = {k: [] for k in infra.gpus}
        self.passthrough_taken: set[str] = set()
        self.placed: dict[str, tuple[str, ...]] = {}
        self._eligible: dict[str, list[Gpu]] = {}

    def eligible(self, consumer: Consumer) -> list[Gpu]:
        if consumer.name not in self._eligible:
            self._eligible[consumer.name] = eligible(consumer, self.infra)
        return self._eligible[consumer.name]

    def usable(self, gpu: Gpu) -> float:
        """What a consumer may use on `gpu`: its VRAM less the headroom kept free."""
        return max(gpu.vram_gb - self.headroom, 0.0)

    def charge(self, consumer: Consumer, gpu: Gpu) -> float:
        """VRAM the consumer takes on `gpu`; a budgeted service shrinks to fit the GPU."""
        request = consumer.request
        if request.budget is not None:
            return min(request.vram_gb, request.budget.gb, self.usable(gpu))
        return request.vram_gb

    def free(self, key: str) -> float:
        return self.usable(self.infra.gpus[key]) - self.used[key]

    def assign(self, consumer: Consumer, keys: list[str]) -> None:
        for key in keys:
            self.used[key] += self.charge(consumer, self.infra.gpus[key])
            self.on_gpu[key].append(consumer.name)
            if consumer.request.passthrough:
                self.passthrough_taken.add(key)
        self.placed[consumer.name] = tuple(keys)


def _cc(text: str | None) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(".")) if text else ()


def host_ok(consumer: Consumer, gpu: Gpu, infra: Infra) -> bool:
    host = infra.hosts[gpu.host]
    if consumer.target in ("compose", "proxmox"):
        return gpu.host == consumer.host
    if consumer.target == "kubernetes":
        return gpu.host == consumer.host if consumer.host else host.platform == "kubernetes"
    return host.platform in ("incus", None)


def candidate_gpus(consumer: Consumer, infra: Infra) -> tuple[Gpu, ...] | list[Gpu]:
    """Only the GPUs of the consumer's host when it names one, so placement stays linear in hosts."""
    if consumer.host is not None and consumer.target != "incus":
        host = infra.hosts.get(consumer.host)
        return host.gpus if host is not None else ()
    return list(infra.gpus.values())


def eligible(consumer: Consumer, infra: Infra) -> list[Gpu]:
    """GPUs the consumer could run on at all, ignoring what else is placed (sorted by `host/gpu`)."""
    request = consumer.request
    out = []
    for gpu in candidate_gpus(consumer, infra):
        if gpu.status == "unavailable" or not host_ok(consumer, gpu, infra):
            continue
        if request.vendor not in ("any", gpu.vendor):
            continue
        if request.min_compute_capability and _cc(gpu.compute_capability) < _cc(request.min_compute_capability):
            continue
        out.append(gpu)
    return out


def _why_none(consumer: Consumer, infra: Infra) -> str:
    request = consumer.request
    wanted = []
    if request.vendor != "any":
        wanted.append(request.vendor)
    if request.min_compute_capability:
        wanted.append(f"compute capability >= {request.min_compute_capability}")
    where = f"on host '{consumer.host}'" if consumer.host else f"for target {consumer.target}"
    return f"no available {' '.join(wanted) + ' ' if wanted else ''}GPU {where}"


def _rank(state: _State, consumer: Consumer, gpu: Gpu) -> tuple:
    """vram_based order: fits first, `ok` before `degraded`, most free VRAM, then name.

    Under `exclusive` a GPU nobody uses comes before any shared one: sharing
    would break the policy, overfilling only warns.
    """
    fits = state.free(gpu.key) >= state.charge(consumer, gpu)
    occupied = bool(state.on_gpu[gpu.key]) if state.infra.gpu_policy == "exclusive" else False
    return (occupied, not fits, gpu.status == "degraded", -state.free(gpu.key), gpu.key)


def _choose(state: _State, consumer: Consumer, diag: Diagnostics, auto: bool) -> None:
    infra = state.infra
    request = consumer.request
    chosen: list[str] = []
    pinned = infra.gpus.get(request.pin_gpu) if request.pin_gpu else None
    if pinned is not None:
        if pinned.status == "unavailable":
            diag.warning("PLACE003", f"{consumer.name} is pinned to {pinned.key}, which is unavailable; "
                         "it falls back to the next eligible GPU", request.path + ("pin",))
        else:
            chosen.append(pinned.key)
    if len(chosen) < request.count and (auto or not chosen):
        if not auto:
            diag.error("PLACE005", f"strategy is 'manual' but {consumer.name} has no usable pin; "
                       "set gpu.pin to a GPU (name or host/gpu)", request.path)
        else:
            candidates = [g for g in state.eligible(consumer)
                          if g.key not in chosen and g.key not in state.passthrough_taken
                          and not (request.passthrough and state.on_gpu[g.key])]
            while len(chosen) < request.count and candidates:
                best = min(candidates, key=lambda g: _rank(state, consumer, g))
                if best.status == "degraded":
                    diag.warning("PLACE004", f"{consumer.name} is placed on {best.key}, which is degraded: "
                                 "no ok GPU can take it", consumer.path)
                chosen.append(best.key)
                candidates.remove(best)
    if not chosen:
        diag.warning("PLACE002", f"{consumer.name} gets no GPU: {_why_none(consumer, infra)}", consumer.path)
        return
    if len(chosen) < request.count:
        diag.warning("PLACE006", f"{consumer.name} asks for {request.count} GPUs but gets {len(chosen)}: "
                     f"{_why_none(consumer, infra)} beyond {', '.join(chosen)}", request.path)
    state.assign(consumer, chosen)


def _order(infra: Infra) -> list[Consumer]:
    """Pins first, then passthrough VMs (they need a whole GPU), then by VRAM descending; ties by name."""
    def key(c: Consumer) -> tuple:
        return (c.request.pin_gpu is None, not c.request.passthrough, -c.request.vram_gb, c.name)
    return sorted(infra.consumers.values(), key=key)


def _vram_based(state: _State, diag: Diagnostics) -> None:
    for consumer in _order(state.infra):
        _choose(state, consumer, diag, auto=True)


def _manual(state: _State, diag: Diagnostics) -> None:
    for consumer in _order(state.infra):
        _choose(state, consumer, diag, auto=False)


STRATEGIES: dict[str, Callable[[_State, Diagnostics], None]] = {
    "vram_based": _vram_based,
    "manual": _manual,
}


def place(infra: Infra, diag: Diagnostics, strategy: str | None = None) -> Placement | None:
    """Place every consumer; None when the strategy cannot run (an error is reported)."""
    from_command_line = strategy is not None
    strategy = strategy or infra.strategy
    sub = Diagnostics(diag.document, diag.default_file)
    if strategy not in STRATEGIES:
        message = (f"placement strategy '{strategy}' is not available in this version of psot; "
                   f"use one of: {', '.join(sorted(STRATEGIES))}")
        if from_command_line:
            diag.at_location("PLACE001", "error", message, "<command line>", 1, 1, "--strategy")
        else:
            diag.error("PLACE001", message, ("global", "placement", "strategy"))
        return None
    state = _State(infra)
    if infra.gpus:
        STRATEGIES[strategy](state, sub)
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
        gpus={key: GpuUse(gpu.vram_gb, state.used[key], tuple(sorted(state.on_gpu[key])), gpu.status)
              for key, gpu in infra.gpus.items()},
        unplaced=tuple(n for n, c in infra.consumers.items()
                       if not state.placed.get(n) and (infra.gpus or c.kind == "workload")),
        findings=tuple(sub.findings),
    )
    diag.extend(sub.findings)
    return placement


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
    """Where the consumer would go if its GPU failed: other eligible GPUs, best first."""
    own = set(state.placed.get(consumer.name, ()))
    if not own:
        return ()
    others = [g for g in state.eligible(consumer) if g.key not in own
              and not (consumer.request.passthrough and state.on_gpu[g.key])
              and g.key not in state.passthrough_taken]
    others.sort(key=lambda g: (g.status == "degraded", state.free(g.key) < state.charge(consumer, g),
                               -state.free(g.key), g.key))
    return tuple(g.key for g in others)
