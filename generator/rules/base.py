"""What a rule module works with: the context it checks and the problems it yields.

A rule module (see STYLE.md, yamllint's rules) defines:

- `CODE` ("GPU001"), `SEVERITY` ("error" or "warning"), `STAGE`
  ("model": before placement, on the typed model; "placement": after it,
  when the placement is known);
- a docstring whose first line is the rule's one-line description (the
  README table), then what the rule means and why it exists (what
  `psot explain CODE` prints), then a `Fix::` block that says how to fix
  what it finds, and `Passing::`, `Failing::` and `Finding::` blocks: a
  complete infra.yml that passes, one that fails, and the exact finding the
  failing one gives (tests/rules/test_docstrings.py compiles both).
  generator/diagnostics/codes.py reads all of it into the table of codes;
- `check(ctx)`, a generator of `Problem`s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from generator.model.core import Consumer, Gpu, Infra
from generator.placement.core import Placement
from generator.platforms import kubernetes
from generator.validate.schema import closest


@dataclass(frozen=True)
class Problem:
    message: str
    path: tuple
    at: str = "value"   # "key" points at the key of `path` rather than at its value


@dataclass(frozen=True)
class Context:
    infra: Infra
    placement: Placement | None = None

    def consumers(self) -> Iterator[Consumer]:
        """Every consumer, in the order infra.yml lists them."""
        yield from sorted(self.infra.consumers.values(), key=lambda c: c.order)

    def gpus_of(self, consumer: Consumer) -> tuple[str, ...]:
        """The `host/gpu` keys placement gave the consumer (empty before placement)."""
        if self.placement is None:
            return ()
        return self.placement.assignments[consumer.name].gpus

    def need_placement(self) -> Placement:
        """The placement, for a rule of the placement stage (which always has one)."""
        if self.placement is None:
            raise RuntimeError("a placement rule ran without a placement (a bug in psot)")
        return self.placement


def names(consumers: list[Consumer]) -> str:
    return ", ".join(c.name for c in consumers)


def did_you_mean(word: str, candidates) -> str:
    hint = closest(word, candidates)
    return f"; did you mean '{hint}'?" if hint else ""


GPU_CHOICES_LISTED = 10   # a large inventory's message names this many GPUs, then how many more there are


def gpu_choices(word: str, gpus: Mapping[str, Gpu]) -> str:
    """`; did you mean 'rtx-a5500'? one of: ws/rtx-a400, ws/rtx-a5500`: what a GPU reference that names
    no GPU (a pin, `--without`) could have said. The hint is a GPU name or a `host/gpu` close to `word`."""
    if not gpus:
        return ""
    hint = did_you_mean(word, sorted({g.name for g in gpus.values()} | set(gpus)))
    keys = list(gpus)
    listed = ", ".join(keys[:GPU_CHOICES_LISTED])
    more = f" and {len(keys) - GPU_CHOICES_LISTED} more" if len(keys) > GPU_CHOICES_LISTED else ""
    return f"{hint or ';'} one of: {listed}{more}"


def gpu_groups(ctx: Context) -> list[tuple[str | None, list[Consumer]]]:
    """Consumers that share one physical GPU, by name, per GPU.

    With a `hosts` inventory the groups come from placement. Without one (a
    plain AnKLuMe file) every Incus machine with GPU access shares the one
    host GPU (key None), exactly as AnKLuMe counts them. By name, not in file
    order: these findings are written into placement.yml, which must not
    change when machines or workloads are only reordered in infra.yml.
    """
    if ctx.infra.gpus:
        return [(key, by_name(ctx.infra, use.consumers)) for key, use in ctx.need_placement().gpus.items()]
    return [(None, sorted((c for c in ctx.consumers() if c.kind == "machine"), key=lambda c: c.name))]


def by_name(infra: Infra, consumer_names) -> list[Consumer]:
    return [infra.consumers[n] for n in sorted(consumer_names)]


def pin_path(consumer: Consumer, otherwise: str) -> tuple:
    """`gpu.pin` when infra.yml writes one, else the request's `otherwise` key (a pin from an Incus `pci`)."""
    return consumer.request.path + ("pin" if consumer.request.pin_written else otherwise,)


def workloads_by_node(ctx: Context) -> dict[str, list[str]]:
    """Node -> the Kubernetes workloads that run on it, in file order.

    A workload runs on its `host` and on the hosts of the GPUs placement
    gave it; a workload without either runs on no node psot knows.
    """
    infra = ctx.infra
    out: dict[str, list[str]] = {}
    for workload in infra.workloads.values():
        if workload.target != kubernetes.NAME:
            continue
        nodes = {workload.host} if workload.host else set()
        consumer = infra.consumers.get(workload.name)
        if consumer is not None and consumer.path == workload.path:
            nodes |= {infra.gpus[key].host for key in ctx.gpus_of(consumer)}
        for node in sorted(nodes):
            out.setdefault(node, []).append(workload.name)
    return out
