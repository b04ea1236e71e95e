"""Placement properties on random inventories and requests (hypothesis), for every strategy.

1. deterministic: the same input gives the same placement (in process, and
   across processes with different PYTHONHASHSEED);
2. no consumer is dropped silently: each is in `assignments`, and one
   without a GPU is in `unplaced` with a finding about it;
3. every strategy but manual fits everything (within capacity, each
   consumer its GPUs on one host, passthrough alone, one per GPU under
   `exclusive`) whenever some assignment does (brute force over pins,
   `count`, vendors, passthrough, `isolate` and both policies,
   tests/placement/placement_oracle.py);
   and every GPU over capacity or inside its headroom is named by a warning
   on that GPU listing its consumers (VRAM002, VRAM004);
4. every pin to an available GPU is honoured;
5. balanced marked `exact` has, group by group, the joint minimum deviation
   of utilisation from a common level that its solver minimises (every
   consumer but the pinned `count: 1` ones moved, passthrough VMs and
   `count >= 2` ones included: placement_oracle.deviation_optimum); whatever
   the method, its variance is no better than the joint minimum variance and
   its lower bound no higher; balanced raises GPU001 only when no placement
   has one consumer per GPU.

Inputs that fail earlier stages (FIT003, ...) are fine: they must give
error findings, never a traceback, and the placement properties apply only
when there is a placement.

Two bugs these properties found have regression tests at the end of this
file, each with the minimal input hypothesis reduced it to.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.pipeline import compile_infra
from generator.placement.core import STRATEGY_NAMES, fmt_gb
from generator.placement.solver import TIE_TOTAL
from tests.conftest import REPO
from tests.placement import placement_oracle as oracle

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# Per-strategy properties (5 runs each) and the oracle-heavy ones (fewer tests, more examples).
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CAPACITY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def infra_docs(draw, **kwargs) -> dict:
    return oracle.build_doc(oracle.DrawChooser(draw, st), **kwargs)


def compile_doc(doc: dict, strategy: str, times: int = 1):
    """Write `doc` to a fresh infra.yml and compile it up to placement (no previous placement.yml).

    With `times` > 1, a list of that many compilations of the same file.
    """
    results = []
    with tempfile.TemporaryDirectory(prefix="psot-prop-") as tmp:
        path = Path(tmp) / "infra.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        for _ in range(times):
            result = compile_infra(path, strategy=strategy, output_dir=Path(tmp) / "generated", until="place")
            if result.placement is None:
                # An earlier stage (or the strategy itself) stopped: it said why, as error findings.
                assert result.diag.has_errors, [f.format() for f in result.diag.findings]
            results.append(result)
    return results[0] if times == 1 else results


def placed(result) -> dict[str, tuple[str, ...]]:
    return {name: a.gpus for name, a in result.placement.assignments.items()}


def describe(result) -> str:
    """What a failing example shows besides the input: the placement and its findings."""
    return yaml.safe_dump({"placement": result.placement.to_dict(with_locations=False)}, sort_keys=False)


def test_generated_documents_are_valid_inputs():
    """Sanity of the generator itself: names match the spec pattern and most inputs reach placement."""
    rng = random.Random(7)
    reached = 0
    for _ in range(40):
        doc = oracle.build_doc(oracle.RandomChooser(rng))
        for name in list(doc["hosts"]) + list(doc["workloads"]) + [g for h in doc["hosts"].values()
                                                                   for g in h["gpus"]]:
            assert NAME.match(name), name
        reached += compile_doc(doc, "vram_based").placement is not None
    assert reached >= 20


# -- 1. Deterministic ---------------------------------------------------------------------------

@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
@PROPERTY
@given(doc=infra_docs())
def test_same_input_same_placement(strategy, doc):
    first, second = compile_doc(doc, strategy, times=2)
    assert [f.to_dict() for f in first.diag.findings] == [f.to_dict() for f in second.diag.findings]
    if first.placement is None:
        assert second.placement is None
        return
    assert first.placement.to_dict() == second.placement.to_dict()


def fixed_inputs(seed: int = 20240611, wanted: int = 3) -> list[dict]:
    """`wanted` generated inputs that reach placement, from a fixed seed."""
    rng = random.Random(seed)
    out = []
    while len(out) < wanted:
        doc = oracle.build_doc(oracle.RandomChooser(rng))
        if compile_doc(doc, "vram_based").placement is not None:
            out.append(doc)
    return out


def test_place_json_does_not_depend_on_the_hash_seed(tmp_path):
    """`psot place --format json --strategy S` prints the same bytes whatever PYTHONHASHSEED is."""
    runs = []
    for i, doc in enumerate(fixed_inputs()):
        path = tmp_path / f"infra-{i}.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        for strategy in STRATEGY_NAMES:
            for seed in ("0", "987654"):
                runs.append((path, strategy, seed))

    def run(job):
        path, strategy, seed = job
        env = dict(os.environ, PYTHONHASHSEED=seed)
        env.pop("PSOT_DEBUG", None)
        done = subprocess.run([sys.executable, "-m", "generator", "place", str(path), "--format", "json",
                               "--strategy", strategy], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        outputs = list(pool.map(run, runs))
    by_job = dict(zip(runs, outputs))
    succeeded = 0
    for path, strategy, seed in runs:
        if seed != "0":
            continue
        out0, out1 = by_job[(path, strategy, "0")], by_job[(path, strategy, "987654")]
        assert out0 == out1, (path.name, strategy)
        assert out0.strip(), (path.name, strategy)
        body = json.loads(out0)
        succeeded += "assignments" in body
    assert succeeded >= 3   # not only failures: some of these compile and print a placement


# -- 2. Never drops a consumer silently -----------------------------------------------------------

def about(finding, name: str) -> bool:
    return (finding.path == f"workloads.{name}" or finding.path.startswith(f"workloads.{name}.")
            or re.search(rf"(?<![a-z0-9-]){re.escape(name)}(?![a-z0-9-])", finding.message) is not None)


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
@PROPERTY
@given(doc=infra_docs())
def test_every_consumer_is_placed_or_reported(strategy, doc):
    result = compile_doc(doc, strategy)
    if result.placement is None:
        return
    placement = result.placement
    assert set(placement.assignments) == set(doc["workloads"])
    without = {name for name, a in placement.assignments.items() if not a.gpus}
    assert set(placement.unplaced) == without, describe(result)
    for name in without:
        reasons = [f for f in placement.findings if about(f, name)
                   and (f.code == "PLACE002" or (f.code == "PLACE005" and strategy == "manual")
                        or (f.code == "PLACE003" and "it gets no other GPU: " in f.message)
                        or f.severity == "error")]
        assert reasons, f"{name} has no GPU and no finding says why\n{describe(result)}"


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
@PROPERTY
@given(doc=infra_docs())
def test_one_consumer_one_story_about_its_gpu(strategy, doc):
    """At most one of PLACE002 (no GPU), PLACE003 (its pin is unavailable) per consumer, and it
    agrees with the placement: a consumer that got GPUs is told which, one that got none is told so."""
    result = compile_doc(doc, strategy)
    if result.placement is None:
        return
    for name, a in result.placement.assignments.items():
        stories = [f for f in result.placement.findings if f.code in ("PLACE002", "PLACE003")
                   and (f.path == f"workloads.{name}" or f.path.startswith(f"workloads.{name}."))]
        assert len(stories) <= 1, describe(result)
        if not stories:
            continue
        if a.gpus:
            assert stories[0].code == "PLACE003", describe(result)
            assert stories[0].message.endswith(f"; it falls back to {', '.join(a.gpus)}"), describe(result)
        else:
            assert stories[0].code == "PLACE002" or "; it gets no other GPU: " in stories[0].message, \
                describe(result)


# -- 3. Within capacity whenever possible; every overfull GPU named --------------------------------

@pytest.mark.parametrize("strategy", [s for s in STRATEGY_NAMES if s != "manual"])
@CAPACITY
@given(doc=infra_docs())
def test_everything_fits_whenever_the_oracle_fits_it(strategy, doc):
    result = compile_doc(doc, strategy)
    if result.placement is None:
        return
    problem = oracle.problem_of(doc)
    witness = oracle.feasible_assignment(problem)
    if witness is None:
        return
    got = placed(result)
    fits = f"but this fits: {witness}\n{describe(result)}"
    for key, use in result.placement.gpus.items():
        assert use.used_gb <= problem.usable(key) + 1e-9, f"{key} holds {use.used_gb} GB, {fits}"
        assert len(use.consumers) <= 1 or not (problem.exclusive or any(
            problem.consumers[n].passthrough for n in use.consumers)), f"{key} is shared, {fits}"
    for name in witness:
        assert got[name] in problem.options(name), f"{name} gets {got[name]}, {fits}"
    assert not result.diag.has_errors, [f.format() for f in result.diag.findings]


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
@PROPERTY
@given(doc=infra_docs())
def test_every_gpu_over_its_usable_vram_is_named_on_that_gpu(strategy, doc):
    result = compile_doc(doc, strategy)
    if result.placement is None:
        return
    problem = oracle.problem_of(doc)
    load, on = oracle.loads(problem, placed(result))
    for key, used in load.items():
        assert abs(result.placement.gpus[key].used_gb - used) <= 1e-9, describe(result)
        host, gpu = key.split("/")
        named = [f for f in result.diag.findings if f.code in ("VRAM002", "VRAM004")
                 and f.path == f"hosts.{host}.gpus.{gpu}"]
        if used > problem.usable(key) + 1e-9:
            assert len(named) == 1, f"{key} holds {used} GB of {problem.usable(key)} usable\n{describe(result)}"
            assert named[0].message.endswith(", ".join(sorted(on[key])) if named[0].code == "VRAM002"
                                             else f"{', '.join(sorted(on[key]))} use {fmt_gb(used)} of "
                                                  f"{fmt_gb(problem.gpus[key].vram_gb)} GB"), named[0].message
            assert named[0].code == ("VRAM002" if used > problem.gpus[key].vram_gb + 1e-9 else "VRAM004")
        else:
            assert not named, describe(result)


# -- 4. Pins win ------------------------------------------------------------------------------------

@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
@PROPERTY
@given(doc=infra_docs())
def test_every_pin_to_an_available_gpu_is_honoured(strategy, doc):
    result = compile_doc(doc, strategy)
    if result.placement is None:
        return
    problem = oracle.problem_of(doc)
    for name in problem.consumers:
        pin = problem.live_pin(name)
        if pin is not None:
            # With `count: 2` or more the pin is one of its GPUs, the others of the pin's host.
            gpus = result.placement.assignments[name].gpus
            assert pin in gpus and {problem.gpus[k].host for k in gpus} == {problem.gpus[pin].host}, \
                describe(result)


# -- 5. balanced is optimal ---------------------------------------------------------------------------

def check_balanced_optimum(doc: dict) -> None:
    result = compile_doc(doc, "balanced")
    if result.placement is None:
        return
    placement = result.placement
    problem = oracle.problem_of(doc)
    best = oracle.balanced_optimum(problem, placed(result))
    if any(f.code == "GPU001" for f in result.diag.findings):
        # Sharing under `exclusive` is an error balanced raises only when nothing else places everyone:
        # no assignment has one consumer per GPU (pins that share one make the input invalid whatever
        # balanced does), and it still gives a GPU to every consumer some GPU can take but a passthrough
        # VM, which needs a GPU of its own (and a `count` consumer may get fewer, PLACE006, once a VM
        # took one of its host's GPUs: a VM's GPU is its own).
        assert not best.exclusive_feasible, f"one per GPU: {best.choice}\n{describe(result)}"
        vms = {k for n, c in problem.consumers.items() if c.passthrough for k in placed(result)[n]}
        for name, consumer in problem.consumers.items():
            if not consumer.passthrough and any(not set(option) & vms for option in problem.options(name)):
                got = set(placed(result)[name])
                assert got and any(got <= set(option) for option in problem.options(name)), describe(result)
        return
    if not oracle.balance_domain(problem, placed(result)):
        assert placement.balance is None
        return
    if best.variance is None:
        return
    assert placement.balance is not None
    deviations = oracle.deviation_optimum(problem, placed(result))
    if placement.balance.method == "exact":
        # Exact means HiGHS's joint optimum of every group: the least deviation from a common load, over
        # every consumer but the pinned `count: 1` ones (passthrough VMs and `count >= 2` ones included).
        assert deviations is not None and abs(deviations[0] - deviations[1]) <= 1e-6, (
            f"deviation {deviations}, optimum {best.choice}\n" + describe(result))
    else:
        assert placement.balance.method in ("heuristic", "heuristic, over capacity"), describe(result)
        if deviations is not None:
            assert deviations[1] >= deviations[0] - 1e-6, describe(result)
    # Whatever the method, the variance is that of a real placement and the bound is below every one's.
    assert placement.balance.variance >= best.variance - 1e-9, describe(result)
    assert placement.balance.lower_bound <= best.variance + 1e-9, describe(result)


@CAPACITY
@given(doc=infra_docs(pins=False, passthrough=False, counts=False))
def test_balanced_reaches_the_minimum_variance_without_pins(doc):
    check_balanced_optimum(doc)


@CAPACITY
@given(doc=infra_docs())
def test_balanced_reaches_the_minimum_variance_with_pins_counts_and_passthrough(doc):
    check_balanced_optimum(doc)


def test_balanced_claims_exact_on_most_inputs_without_pins():
    """The property above is not vacuous: on inputs without pins, passthrough or `count`, balanced claims
    the optimum on every one that fits within capacity (the rest spread an overflow, never exact)."""
    rng = random.Random(11)
    methods: dict[str, int] = {}
    for _ in range(40):
        doc = oracle.build_doc(oracle.RandomChooser(rng), pins=False, passthrough=False, counts=False)
        result = compile_doc(doc, "balanced")
        if result.placement is not None and result.placement.balance is not None:
            method = result.placement.balance.method
            methods[method] = methods.get(method, 0) + 1
    assert methods == {"exact": 15, "heuristic, over capacity": 16}


def test_balanced_claims_exact_with_passthrough_and_counts():
    """Nor on inputs with a passthrough VM or a `count >= 2` consumer, which HiGHS now places jointly
    (step 1 used to fix them, and balanced then said `heuristic`): each is checked against the oracle."""
    rng = random.Random(12)
    methods: dict[str, int] = {}
    for _ in range(100):
        doc = oracle.build_doc(oracle.RandomChooser(rng))
        if not any(w["gpu"].get("passthrough") or w["gpu"].get("count", 1) > 1 for w in doc["workloads"].values()):
            continue
        result = compile_doc(doc, "balanced")
        if result.placement is not None and result.placement.balance is not None:
            method = result.placement.balance.method
            methods[method] = methods.get(method, 0) + 1
            check_balanced_optimum(doc)
    assert methods == {"exact": 10, "heuristic, over capacity": 4, "heuristic": 1}


# -- Regressions: bugs the properties above found, with their minimal inputs ------------------------

PASSTHROUGH_FIRST = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  ws:
    platform: docker
    iommu: true
    gpus:
      big: {vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:01:00.0"}
      small: {vendor: nvidia, vram_gb: 8, index: 1, pci: "0000:02:00.0"}
workloads:
  vm: {target: compose, host: ws, gpu: {vram_gb: 1, passthrough: true}}
  llm: {target: compose, host: ws, gpu: {vram_gb: 20}}
"""


# Passthrough consumers used to take "the largest free GPU" before the strategy saw anyone else,
# so vm (1 GB) took big (24 GB) and llm (20 GB) was left with small (8 GB). They now join the
# search with everyone else, which backtracks vm to small.
@pytest.mark.parametrize("strategy", ["vram_based", "balanced"])
def test_passthrough_first_on_the_largest_gpu_can_overflow_another(infra_file, strategy):
    result = compile_infra(infra_file(PASSTHROUGH_FIRST), strategy=strategy, until="place")
    assert oracle.feasible_assignment(oracle.problem_of(yaml.safe_load(PASSTHROUGH_FIRST))) == {
        "llm": ("ws/big",), "vm": ("ws/small",)}
    assert result.placement.gpus["ws/small"].used_gb <= 8, placed(result)
    assert placed(result) == {"llm": ("ws/big",), "vm": ("ws/small",)}


EXCLUSIVE_WITH_PIN = """
project_name: t
global: {gpu_policy: exclusive, placement: {headroom_gb: 0}}
domains: {}
hosts:
  ws:
    platform: docker
    gpus:
      big: {vendor: nvidia, vram_gb: 24, index: 0}
      small: {vendor: nvidia, vram_gb: 8, index: 1}
workloads:
  x: {target: compose, host: ws, gpu: {vram_gb: 1, pin: big}}
  y: {target: compose, host: ws, gpu: {vram_gb: 1}}
"""


# balance.solve under exclusive used to count only its own items per GPU, so the GPU of the
# pinned x looked free and y went beside it (GPU001). It now gets each GPU's occupancy.
def test_balanced_exclusive_counts_pinned_consumers(infra_file):
    result = compile_infra(infra_file(EXCLUSIVE_WITH_PIN), strategy="balanced", until="place")
    best = oracle.balanced_optimum(oracle.problem_of(yaml.safe_load(EXCLUSIVE_WITH_PIN)), placed(result))
    assert best.exclusive_feasible and best.choice == {"y": ("ws/small",)}
    assert "GPU001" not in {f.code for f in result.diag.findings}
    assert placed(result) == {"x": ("ws/big",), "y": ("ws/small",)}
    assert abs(result.placement.balance.variance - best.variance) <= 1e-9


PINNED_ISOLATED = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  ws:
    platform: docker
    gpus:
      g0: {vendor: nvidia, vram_gb: 4, index: 0, compute_capability: "7.5"}
      g1: {vendor: nvidia, vram_gb: 8, index: 1, compute_capability: "7.5"}
      g2: {vendor: amd, vram_gb: 8, index: 2}
workloads:
  pair: {target: compose, host: ws, gpu: {vram_gb: 6, count: 2}}
  solo: {target: compose, host: ws, gpu: {vram_gb: 0, vendor: amd, pin: g2, isolate: true}}
"""


# isolation_first kept a pinned `isolate` consumer's GPU to itself even once it let isolated consumers
# share, so `pair` overflowed g0 although g1 + g2 hold it. The pin's GPU is offered again then (PLACE007).
def test_isolation_first_lets_a_pinned_isolated_consumer_share_rather_than_overflow(infra_file):
    result = compile_infra(infra_file(PINNED_ISOLATED), strategy="isolation_first", until="place")
    assert placed(result) == {"pair": ("ws/g1", "ws/g2"), "solo": ("ws/g2",)}
    assert [f.message for f in result.diag.findings if f.code == "PLACE007"] == [
        "solo is to be isolated but shares ws/g2 with pair: the GPUs that could take it alone cannot fit everyone"]


PINNED_PASSTHROUGH_PAIR = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  ws:
    platform: docker
    iommu: true
    gpus:
      g0: {vendor: nvidia, vram_gb: 4, index: 0, pci: "0000:01:00.0"}
      g1: {vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0"}
workloads:
  vm: {target: compose, host: ws, gpu: {vram_gb: 6, pin: g0, passthrough: true, count: 2}}
"""


# A passthrough VM pinned with `count: 2` that fits no GPU used to get none at all, its pin dropped;
# pins win over capacity as with `count: 1` (VRAM003 says it is too big).
@pytest.mark.parametrize("strategy", ["vram_based", "isolation_first", "balanced"])
def test_a_pinned_passthrough_pair_too_big_keeps_its_pin(infra_file, strategy):
    result = compile_infra(infra_file(PINNED_PASSTHROUGH_PAIR), strategy=strategy, until="place")
    assert placed(result)["vm"][0] == "ws/g0"
    assert "vm requires ~6 GB, GPU 0 (ws/g0) only has 4 GB" in [f.message for f in result.diag.findings]



PIN_UNDER_A_PASSTHROUGH = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  ws:
    platform: docker
    iommu: true
    gpus:
      g0: {vendor: nvidia, vram_gb: 4, index: 0, pci: "0000:01:00.0"}
      g1: {vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0"}
workloads:
  svc-0: {target: compose, host: ws, gpu: {vram_gb: 0, pin: g0, count: 2}}
  svc-1: {target: compose, host: ws, gpu: {vram_gb: 0, passthrough: true}}
  svc-3: {target: compose, host: ws, gpu: {vram_gb: 0, isolate: true}}
"""


# Found by the pin property: under isolation_first the passthrough VM svc-1 and the isolated svc-3 took
# both GPUs first, and svc-0, left to share, was offered only the GPUs no VM holds, so its pin g0 was
# dropped (PLACE006, one GPU). Its pin wins as in every strategy, and PASS001 names the conflict.
@pytest.mark.parametrize("strategy", ["vram_based", "isolation_first"])
def test_a_pinned_pair_keeps_its_pin_on_a_gpu_a_passthrough_vm_took(infra_file, strategy):
    result = compile_infra(infra_file(PIN_UNDER_A_PASSTHROUGH), strategy=strategy, until="place")
    assert placed(result)["svc-0"] == ("ws/g0", "ws/g1")
    assert placed(result)["svc-1"] == ("ws/g0",)
    assert [f.message for f in result.diag.findings if f.code in ("PASS001", "PLACE006")] == [
        "GPU 0 (ws/g0) is passed through to VM svc-1 (vfio-pci), so it can serve nothing else under any "
        "gpu_policy: svc-0 must use another GPU"]

PINNED_PAIR_BALANCED = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  ws:
    platform: docker
    gpus:
      g0: {vendor: nvidia, vram_gb: 10, index: 0}
      g1: {vendor: nvidia, vram_gb: 10, index: 1}
      g2: {vendor: nvidia, vram_gb: 20, index: 2}
workloads:
  pair: {target: compose, host: ws, gpu: {vram_gb: 5, count: 2, pin: g0}}
  one: {target: compose, host: ws, gpu: {vram_gb: 10}}
"""


# balanced used to keep step 1's (vram_based's) second GPU for a pinned `count: 2` consumer (the most free,
# g2) and say `heuristic`; HiGHS now places it jointly: pair on g0 + g1 and one on g2 gives every GPU 50%.
def test_balanced_places_a_pinned_pair_jointly(infra_file):
    result = compile_infra(infra_file(PINNED_PAIR_BALANCED), strategy="balanced", until="place")
    best = oracle.balanced_optimum(oracle.problem_of(yaml.safe_load(PINNED_PAIR_BALANCED)), placed(result))
    assert best.variance == 0.0 and best.choice == {"pair": ("ws/g0", "ws/g1"), "one": ("ws/g2",)}
    assert placed(result) == {"pair": ("ws/g0", "ws/g1"), "one": ("ws/g2",)}
    balance = result.placement.balance
    assert (balance.method, balance.variance, balance.lower_bound) == ("exact", 0.0, 0.0)
    assert [g.to_dict() for g in balance.groups] == [
        {"gpus": ["ws/g0", "ws/g1", "ws/g2"], "method": "exact", "deviation": 0.0, "bound": 0.0}]



# Step 1 warns PLACE006 naming the GPUs it chose; when HiGHS then gives the consumer its two GPUs, that
# warning would be stale (and name GPUs it no longer has). Step 1 is made to fall short here (it finds this
# pair's GPUs by itself), so the test checks that the consumer HiGHS re-placed is judged on its new GPUs.
def test_balanced_judges_a_count_again_once_highs_has_placed_it(infra_file, monkeypatch):
    from generator.placement import core
    original = core.VramBased.place

    def short(self, state, rest, diag):
        original(self, state, rest, diag)
        pair = state.infra.consumers["pair"]
        state.unassign(pair)
        core._record(state, pair, ["ws/g2"], diag)

    monkeypatch.setattr(core.VramBased, "place", short)
    result = compile_infra(infra_file(PINNED_PAIR_BALANCED), strategy="balanced", until="place")
    assert placed(result) == {"pair": ("ws/g0", "ws/g1"), "one": ("ws/g2",)}
    assert [f for f in result.diag.findings if f.code == "PLACE006"] == []

VM_AND_SERVICES = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  ws:
    platform: docker
    iommu: true
    gpus:
      g0: {vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:01:00.0"}
      g1: {vendor: nvidia, vram_gb: 12, index: 1, pci: "0000:02:00.0"}
      g2: {vendor: nvidia, vram_gb: 12, index: 2, pci: "0000:03:00.0"}
workloads:
  vm: {target: compose, host: ws, gpu: {vram_gb: 4, passthrough: true}}
  a: {target: compose, host: ws, gpu: {vram_gb: 10}}
  b: {target: compose, host: ws, gpu: {vram_gb: 4}}
"""


# Step 1 (vram_based) gives the VM the largest free GPU, g0, leaving a (10 GB) and b (4 GB) the two 12 GB
# GPUs: 83% and 33%, which is where the old balanced (VMs fixed by step 1) stopped. Placed jointly the VM
# takes g1 and a goes to g0: 42% and 33%, the least deviation the oracle finds (0.0833).
def test_balanced_moves_a_passthrough_vm_jointly(infra_file):
    result = compile_infra(infra_file(VM_AND_SERVICES), strategy="balanced", until="place")
    vram_based = compile_infra(infra_file(VM_AND_SERVICES), strategy="vram_based", until="place")
    assert placed(vram_based) == {"vm": ("ws/g0",), "a": ("ws/g1",), "b": ("ws/g2",)}
    assert placed(result) == {"vm": ("ws/g1",), "a": ("ws/g0",), "b": ("ws/g2",)}
    optimum, own = oracle.deviation_optimum(oracle.problem_of(yaml.safe_load(VM_AND_SERVICES)), placed(result))
    assert abs(optimum - 1 / 12) <= 1e-9 and abs(own - optimum) <= 1e-9
    balance = result.placement.balance
    assert balance.method == "exact"
    assert abs(balance.variance - (5 / 12 - 1 / 3) ** 2 / 4) <= 1e-12
    # From HiGHS's deviation bound D (less the tie-break's TIE_TOTAL) over n = 3 GPUs: D^2 / 3 / 3.
    (group,) = balance.groups
    assert abs(group.deviation - 1 / 12) <= 1e-12 and 1 / 12 - TIE_TOTAL <= group.bound <= 1 / 12
    assert abs(balance.lower_bound - group.bound ** 2 / 9) <= 1e-12
