"""Placement properties on random inventories and requests (hypothesis), for every strategy.

1. deterministic: the same input gives the same placement (in process, and
   across processes with different PYTHONHASHSEED);
2. no consumer is dropped silently: each is in `assignments`, and one
   without a GPU is in `unplaced` with a finding about it;
3. vram_based and balanced stay within capacity whenever some assignment
   does (brute force, tests/placement/placement_oracle.py);
4. every pin to an available GPU is honoured;
5. balanced reaches the brute-force minimum variance of utilisation.

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
from generator.placement.core import STRATEGY_NAMES
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


# -- 3. Within capacity whenever possible ----------------------------------------------------------

@pytest.mark.parametrize("strategy", ["vram_based", "balanced"])
@CAPACITY
@given(doc=infra_docs())
def test_capacity_is_respected_when_a_feasible_assignment_exists(strategy, doc):
    result = compile_doc(doc, strategy)
    if result.placement is None:
        return
    problem = oracle.problem_of(doc)
    witness = oracle.feasible_assignment(problem)
    if witness is None:
        return
    for key, use in result.placement.gpus.items():
        assert use.used_gb <= problem.usable(key) + 1e-9, (
            f"{key} holds {use.used_gb} GB of {problem.usable(key)} usable, but this fits: {witness}\n"
            + describe(result))


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
            assert result.placement.assignments[name].gpus == (pin,), describe(result)


# -- 5. balanced is optimal ---------------------------------------------------------------------------

def check_balanced_optimum(doc: dict) -> None:
    result = compile_doc(doc, "balanced")
    if result.placement is None:
        return
    if any(f.code == "GPU001" for f in result.diag.findings):
        # Pins that break the exclusive policy make the input invalid: the oracle's optimum is over valid
        # placements, which this input has none of (found by CI's run; issue 22 keeps balanced's claim open).
        return
    placement = result.placement
    problem = oracle.problem_of(doc)
    best = oracle.balanced_optimum(problem, placed(result))
    if not best.domain:
        assert placement.balance is None
        return
    if best.variance is None:
        return
    assert placement.balance is not None
    # Exact means the joint optimum: with a passthrough VM that is not pinned, balanced fixes its GPU first
    # (vram_based's search) and must not claim exactness; the oracle's optimum then fixes it the same way.
    chosen_first = [n for n, c in problem.consumers.items()
                    if c.passthrough and problem.live_pin(n) is None and placed(result).get(n)]
    if chosen_first:
        assert placement.balance.method == "heuristic", describe(result)
        assert placement.balance.variance >= best.variance - 1e-9
        return
    assert placement.balance.method == "exact", describe(result)
    assert abs(placement.balance.variance - best.variance) <= 1e-9, (
        f"variance {placement.balance.variance}, but {best.choice} gives {best.variance}\n"
        + describe(result))


@CAPACITY
@given(doc=infra_docs(pins=False, passthrough=False))
def test_balanced_reaches_the_minimum_variance_without_pins(doc):
    check_balanced_optimum(doc)


@CAPACITY
@given(doc=infra_docs())
def test_balanced_reaches_the_minimum_variance_with_pins_and_passthrough(doc):
    check_balanced_optimum(doc)


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
        "llm": "ws/big", "vm": "ws/small"}
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
    assert best.exclusive_feasible and best.choice == {"y": "ws/small"}
    assert "GPU001" not in {f.code for f in result.diag.findings}
    assert placed(result) == {"x": ("ws/big",), "y": ("ws/small",)}
    assert abs(result.placement.balance.variance - best.variance) <= 1e-9
