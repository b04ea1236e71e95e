"""The transition planner: from two placements to the ordered steps between them, each a platform's own CLI.

`transition(before, after, ctx)` compares two compilations (their infra and
placement; no command runs here) and returns, in this order:

1. `stops`: every consumer that loses its GPUs or gets other ones, by name:
   a Proxmox VM `qm shutdown -- VMID` (it waits for the guest to power
   off), a Compose service `<compose> … stop -- SERVICE` (the host's compose
   command and files, as platforms/compose/apply.py calls it), an Incus
   instance `incus stop --project DOMAIN -- NAME`, a Kubernetes Deployment or
   StatefulSet `kubectl scale --namespace=NS --replicas=0 -- kind/name`.
2. `moves`: every card whose side changes between vfio-pci (a VM passed it
   through) and its host driver (a container or a pod uses it), by
   `host/gpu`: for each PCI function of the card (the GPU and its HDMI
   audio, see model/passthrough.py `card`) the driver it is to get is
   written to its `driver_override`, and it is unbound from its driver;
   then `modprobe -- DRIVER` loads each driver and `drivers_probe` binds
   each function. driver_override "will override standard static and
   dynamic ID matching" and "only a driver with a name matching the value
   written to driver_override will have an opportunity to bind to the
   device" (https://www.kernel.org/doc/Documentation/ABI/testing/sysfs-bus-pci),
   so vfio-pci's `ids=` (psot's own modprobe.d/vfio.conf) does not take the
   card back. The writes are `tee -- FILE` with the value on standard input
   (no shell), on the GPU's host (over ssh with `hosts.<h>.ssh`). sysfs is
   used rather than driverctl, which Proxmox does not ship.
3. `starts`: every consumer that gains GPUs or gets other ones, by name,
   after the to-mode's files are applied (the caller runs those units in
   between): `qm start -- VMID`, `incus start --project DOMAIN -- NAME`,
   `kubectl scale --replicas=N` back to the workload's `replicas` (default
   1). A Compose service has no start step: the to-mode's override file
   recreates it (`up -d --force-recreate --no-deps -- SERVICE`).

`problems` are the moves that need a reboot or that psot cannot name,
found before anything runs (SWITCH001, SWITCH002).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.apply.units import Context, Step, Unit, as_mapping
from generator.hardware import tables
from generator.model import passthrough
from generator.model import proxmox as pve
from generator.model.core import Consumer, Gpu, Infra
from generator.placement.core import Placement
from generator.platforms.compose.apply import compose_command
from generator.platforms.kubernetes import settings as k8s_settings
from generator.platforms.proxmox.render import FUNCTION_DRIVERS

VFIO = "vfio-pci"
HOST = "host"
TARGET = "switch"         # the record's target of every step that is not a file
SYSFS = "/sys/bus/pci"
# AMD cards with the reset bug: once a VM has used one, the host cannot reset it for its own driver
# without a reboot (or the out-of-tree vendor-reset module). The families vendor-reset's README lists
# as affected (Polaris 10/11/12, Vega 10/20, Navi 10/12/14): https://github.com/gnif/vendor-reset
NO_RESET_AMD = frozenset({"polaris", "vega", "rdna"})


@dataclass
class StepUnit(Unit):
    """A unit of the transition that is no file: a consumer stopped or started, a card moved."""
    title: str = ""
    host: str = ""          # where it runs (a card's host)
    consumer: str = ""      # the consumer it stops or starts

    @property
    def label(self) -> str:
        return self.title


@dataclass(frozen=True)
class Problem:
    """A move psot refuses to make: its code, what to do, the GPU's place in infra.yml."""
    code: str
    message: str
    path: tuple


def finding(code: str, message: str, path: tuple) -> Problem:
    """The problem of `code` (an error of generator/diagnostics/codes.py) at `path`."""
    return Problem(code, message, path)


@dataclass
class Transition:
    stops: list[StepUnit] = field(default_factory=list)
    moves: list[StepUnit] = field(default_factory=list)
    starts: list[StepUnit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sides: dict[str, str] = field(default_factory=dict)     # `host/gpu` -> its side once the transition is done


def gpus_by_consumer(placement: Placement) -> dict[str, tuple[str, ...]]:
    """Consumer -> its GPUs (only those that have one)."""
    return {name: a.gpus for name, a in placement.assignments.items() if a.gpus}


def side_of(infra: Infra, placement: Placement, key: str) -> str | None:
    """vfio-pci when a VM holds the GPU through passthrough, `host` when another consumer uses it, else None."""
    holders = [name for name, a in placement.assignments.items() if key in a.gpus]
    if not holders:
        return None
    return VFIO if any(infra.consumers[n].request.passthrough for n in holders) else HOST


def host_driver(gpu: Gpu) -> str | None:
    """The host kernel driver of the GPU itself: the one infra.yml says it is bound to, else its vendor's
    (NVIDIA's `nvidia`), else its architecture's first (generator/hardware); None when psot cannot tell."""
    if gpu.driver_in_use and gpu.driver_in_use != VFIO:
        return gpu.driver_in_use
    if gpu.vendor == "nvidia":
        return tables.vendor("nvidia").host_modules[0]
    arch = tables.architecture(gpu.vendor, gpu.architecture) if gpu.architecture else None
    return arch.kernel_modules[0] if arch is not None and arch.kernel_modules else None


def _function_drivers(gpu: Gpu, to_side: str) -> list[tuple[str, str | None]]:
    """(address, driver it is to get) of every function of the card; None: psot cannot tell."""
    out: list[tuple[str, str | None]] = []
    classes = {f.pci: f.class_ for f in gpu.functions or ()}
    for address, _ in passthrough.card(gpu):
        if to_side == VFIO:
            out.append((address, VFIO))
        elif address == gpu.pci:
            out.append((address, host_driver(gpu)))
        else:
            out.append((address, FUNCTION_DRIVERS.get(classes.get(address) or "")))
    return out


def _write(ctx: Context, host: str, path: str, value: str) -> Step:
    return ctx.on_host(host, ("tee", "--", path), stdin=(value + "\n").encode(), here=value)


def move_unit(ctx: Context, gpu: Gpu, from_side: str, to_side: str) -> StepUnit | Problem:
    """The steps that move every function of the card to `to_side`, or why psot will not."""
    drivers = _function_drivers(gpu, to_side)
    unknown = [a for a, d in drivers if d is None]
    if unknown:
        return finding("SWITCH001", f"{gpu.key}: psot cannot tell which host driver takes back "
                       f"{', '.join(unknown)} when it leaves vfio-pci: set `driver_in_use` (nvidia, amdgpu, i915, "
                       "xe) on the GPU, or `class` on each of its `functions` (0403 for an HDMI audio function)",
                       gpu.path)
    arch = gpu.architecture or ""
    if from_side == VFIO and gpu.vendor == "amd" and arch in NO_RESET_AMD:
        return finding("SWITCH002", f"{gpu.key}: an AMD {arch} card cannot be reset for the host's driver once a "
                       "VM has used it (the AMD reset bug; https://github.com/gnif/vendor-reset): moving it from "
                       "vfio-pci to amdgpu needs a reboot. Reboot into the new mode instead (`psot apply` its files, "
                       "then reboot)", gpu.path)
    steps: list[Step] = []
    for address, driver in drivers:
        device = f"{SYSFS}/devices/{address}"
        steps.append(_write(ctx, gpu.host, f"{device}/driver_override", str(driver)))
        steps.append(_write(ctx, gpu.host, f"{device}/driver/unbind", address))
    for driver in dict.fromkeys(str(d) for _, d in drivers):
        steps.append(ctx.on_host(gpu.host, ("modprobe", "--", driver)))
    for address, _ in drivers:
        steps.append(_write(ctx, gpu.host, f"{SYSFS}/drivers_probe", address))
    title = f"move {gpu.key} ({', '.join(a for a, _ in drivers)}) from {from_side} to {_side_name(to_side, gpu)}"
    return StepUnit(TARGET, "update", {}, steps, title=title, host=gpu.host)


def _side_name(side: str, gpu: Gpu) -> str:
    return VFIO if side == VFIO else str(host_driver(gpu))


# --- the consumers' commands -------------------------------------------------------------------------

def _workload(infra: Infra, consumer: Consumer) -> Mapping[str, Any]:
    return as_mapping(as_mapping(infra.data.get("workloads")).get(consumer.name))


def _compose(ctx: Context, infra: Infra, consumer: Consumer, verb: str) -> Step:
    command, env = compose_command(ctx, str(consumer.host))
    return Step((*command, verb, "--", infra.workloads[consumer.name].service), env=env)


def _kubectl(ctx: Context, infra: Infra, consumer: Consumer, replicas: int) -> Step | None:
    spec = _workload(infra, consumer)
    kind = str(spec.get("kind", "Deployment"))
    if kind not in ("Deployment", "StatefulSet"):
        return None        # a DaemonSet has no replicas: the to-mode's manifest moves its pods
    context = k8s_settings.context(ctx.infra_data)
    head = ("kubectl", f"--context={context}") if context else ("kubectl",)
    return Step((*head, "scale", f"--namespace={spec.get('namespace', 'default')}", f"--replicas={replicas}", "--",
                 f"{kind.lower()}/{spec.get('name', consumer.name)}"))


def consumer_step(ctx: Context, infra: Infra, consumer: Consumer, start: bool) -> Step | None:
    """The command that stops (or starts) the consumer on its platform; None when there is none to run."""
    if consumer.target == "proxmox":
        vmid = str(_workload(infra, consumer).get("vmid"))
        return ctx.on_host(consumer.host, ("qm", "start" if start else "shutdown", "--", vmid))
    if consumer.target == "incus":
        return Step(("incus", "start" if start else "stop", "--project", str(consumer.domain), "--",
                     consumer.name))
    if consumer.target == "compose":
        return None if start else _compose(ctx, infra, consumer, "stop")
    if consumer.target == "kubernetes":
        return _kubectl(ctx, infra, consumer, int(_workload(infra, consumer).get("replicas", 1)) if start else 0)
    return None


def _consumer_unit(ctx: Context, infra: Infra, name: str, start: bool, why: str) -> StepUnit | None:
    consumer = infra.consumers[name]
    step = consumer_step(ctx, infra, consumer, start)
    if step is None:
        return None
    return StepUnit(TARGET, "add" if start else "delete", {}, [step],
                    title=f"{'start' if start else 'stop'} {consumer.target} {name} ({why})", consumer=name)


def check_where(ctx: Context, hosts: set[str]) -> None:
    """Refuse (ctx.refusals) every host whose commands would run here while this machine is not that host: a
    host without `ssh` runs them on this machine only when its hostname (up to the first dot) is the host's
    name (a Proxmox host's node name), as platforms/proxmox/apply.py decides."""
    local: str | None = None
    for index, host in enumerate(sorted(h for h in hosts if not ctx.ssh(h))):
        if index == 0:
            answer = ctx.query(("hostname",)) if ctx.query is not None else None
            local = answer.strip().split(".")[0] if answer and answer.strip() else None
        name = pve.node_name(host, as_mapping(as_mapping(ctx.infra_data.get("hosts")).get(host)))
        if local != name:
            here = f"'{local}'" if local else "a machine whose hostname could not be read"
            ctx.refusals.append(f"hosts.{host} has no ssh and this machine is {here}, not '{name}': the switch "
                                f"would change the wrong machine's devices; set hosts.{host}.ssh or run psot switch "
                                f"on {name}")


def _gpus_text(gpus: tuple[str, ...]) -> str:
    return ", ".join(gpus) if gpus else "no GPU"


# --- all ---------------------------------------------------------------------------------------------

def transition(before: tuple[Infra, Placement], after: tuple[Infra, Placement], ctx: Context,
               known: Mapping[str, str]) -> Transition:
    """The ordered steps from the `before` mode to the `after` mode (each an infra and its placement).

    `known`: the side (vfio-pci or host) each card was last moved to or used on (mode.json's `cards`): where a
    card the `before` mode does not use is. Without it, a card's declared `driver_in_use` says."""
    (infra_a, placed_a), (infra_b, placed_b) = before, after
    held_a, held_b = gpus_by_consumer(placed_a), gpus_by_consumer(placed_b)
    out = Transition()
    for name in sorted(held_a):
        if held_b.get(name) != held_a[name]:
            unit = _consumer_unit(ctx, infra_a, name, False,
                                  f"{_gpus_text(held_a[name])} -> {_gpus_text(held_b.get(name, ()))}")
            if unit is not None:
                out.stops.append(unit)
    for key in sorted(set(infra_a.gpus) & set(infra_b.gpus)):
        to_side = side_of(infra_b, placed_b, key)
        from_side = side_of(infra_a, placed_a, key)
        gpu = infra_b.gpus[key]
        if from_side is None:
            from_side = known.get(key) or (VFIO if gpu.driver_in_use == VFIO else HOST)
        out.sides[key] = to_side or from_side
        if to_side is None or to_side == from_side:
            continue
        moved = move_unit(ctx, gpu, from_side, to_side)
        if isinstance(moved, Problem):
            out.problems.append(moved)
        else:
            out.moves.append(moved)
    for name in sorted(held_b):
        if held_a.get(name) != held_b[name] and name in infra_b.consumers:
            unit = _consumer_unit(ctx, infra_b, name, True,
                                  f"{_gpus_text(held_a.get(name, ()))} -> {_gpus_text(held_b[name])}")
            if unit is not None:
                out.starts.append(unit)
    check_where(ctx, {u.host for u in out.moves} | {
        infra.consumers[n].host or "" for infra, units in ((infra_a, out.stops), (infra_b, out.starts))
        for n in (u.consumer for u in units) if infra.consumers[n].target == "proxmox"} - {""})
    return out
