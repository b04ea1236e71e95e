"""Issue 22's acceptance, case by case: overflow named on the right GPU, feasible inputs fitted by every
strategy, a consumer's GPUs on one host, and a second sync that moves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from generator.placement.core import STRATEGY_NAMES
from tests.conftest import run_psot

SEARCHING = [s for s in STRATEGY_NAMES if s != "manual"]


def formatted(result, tmp_path: Path) -> list[str]:
    return sorted(f.format().replace(f"{tmp_path}/", "") for f in result.diag.findings)


def placed(path: Path, strategy: str, tmp_path: Path):
    result = compile_infra(path, strategy=strategy, until="place", output_dir=tmp_path / f"out-{strategy}")
    assert result.placement is not None, [f.format() for f in result.diag.findings]
    return result


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "infra.yml"
    path.write_text(text)
    return path


FOUR = """
project_name: t
global: {gpu_policy: shared, placement: {strategy: vram_based, headroom_gb: 0}}
domains: {}
hosts:
  h:
    gpus:
      g0: {vendor: nvidia, vram_gb: 10, index: 0}
      g1: {vendor: nvidia, vram_gb: 10, index: 1}
workloads:
  w0: {target: compose, host: h, gpu: {vram_gb: 4.5}}
  w1: {target: compose, host: h, gpu: {vram_gb: 3.7}}
  w2: {target: compose, host: h, gpu: {vram_gb: 5.9}}
  w3: {target: compose, host: h, gpu: {vram_gb: 11.4}}
"""


def test_the_overflow_is_named_on_the_gpu_it_is_on(tmp_path):
    """25.5 GB on 20: the greedy, as SPEC's vram_based: w3 (11.4 GB) to g0 (a tie, by name), w2 to g1,
    then w0 and w1 to g1, which has the most free VRAM left (4.1, then -0.4, against g0's -1.4)."""
    result = placed(write(tmp_path, FOUR), "vram_based", tmp_path)
    gpus = {n: list(a.gpus) for n, a in result.placement.assignments.items()}
    assert gpus == {"w0": ["h/g1"], "w1": ["h/g1"], "w2": ["h/g1"], "w3": ["h/g0"]}
    found = sorted((f.code, f.message) for f in result.diag.findings if f.code != "GPU002")
    assert found == [
        ("VRAM002", "Combined VRAM (~11.4 GB) exceeds GPU 0 (h/g0) capacity (10 GB): w3"),
        ("VRAM002", "Combined VRAM (~14.1 GB) exceeds GPU 1 (h/g1) capacity (10 GB): w0, w1, w2"),
        ("VRAM003", "w3 requires ~11.4 GB, GPU 0 (h/g0) only has 10 GB"),
    ]


def test_a_gpu_over_capacity_with_one_consumer_is_named(tmp_path):
    text = FOUR.replace("  w0: {target: compose, host: h, gpu: {vram_gb: 4.5}}\n", "").replace(
        "  w1: {target: compose, host: h, gpu: {vram_gb: 3.7}}\n", "").replace(
        "  w2: {target: compose, host: h, gpu: {vram_gb: 5.9}}\n", "")
    result = placed(write(tmp_path, text), "vram_based", tmp_path)
    assert formatted(result, tmp_path) == [
        "infra.yml:11:49: warning[VRAM003] w3 requires ~11.4 GB, GPU 0 (h/g0) only has 10 GB",
        "infra.yml:8:7: warning[VRAM002] Combined VRAM (~11.4 GB) exceeds GPU 0 (h/g0) capacity (10 GB): w3"]


def test_a_budget_without_vram_gb_is_charged_its_budget(tmp_path):
    text = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  h:
    gpus:
      g0: {vendor: nvidia, vram_gb: 8, index: 0}
      g1: {vendor: nvidia, vram_gb: 8, index: 1}
workloads:
  a: {target: compose, host: h, gpu: {budget: {gb: 6}}}
  b: {target: compose, host: h, gpu: {vram_gb: 4}}
"""
    result = placed(write(tmp_path, text), "vram_based", tmp_path)
    assert {k: u.used_gb for k, u in result.placement.gpus.items()} == {"h/g0": 4.0, "h/g1": 6.0}


TWO_NODES = """
project_name: t
global: {gpu_policy: shared}
domains: {}
hosts:
  node-a:
    platform: kubernetes
    gpus:
      g0: {vendor: nvidia, vram_gb: 24}
  node-b:
    platform: kubernetes
    gpus:
      g0: {vendor: nvidia, vram_gb: 24}
workloads:
  train: {target: kubernetes, gpu: {vram_gb: 10, count: 2}}
  big: {target: kubernetes, gpu: {vram_gb: 20}}
"""


@pytest.mark.parametrize("strategy", SEARCHING)
def test_count_2_never_spans_two_kubernetes_nodes(strategy, tmp_path):
    """train gets one GPU of one node, and its asking for two spoils nothing: big still fits beside it."""
    result = placed(write(tmp_path, TWO_NODES), strategy, tmp_path)
    assert {n: list(a.gpus) for n, a in result.placement.assignments.items()} == {
        "big": ["node-a/g0"], "train": ["node-b/g0"]}
    # (K8S012: this inline input has no kustomize base, which is beside the point here.)
    assert [f for f in formatted(result, tmp_path) if "K8S012" not in f] == [
        "infra.yml:15:31: warning[PLACE006] train asks for 2 GPUs but gets 1: a consumer's GPUs are all on one "
        "host, and no host has 2 eligible GPUs for it (the most is 1, on node-a)"]


PINNED_PAIR = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  pve:
    platform: proxmox
    iommu: true
    gpus:
      a: {vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:01:00.0"}
      b: {vendor: nvidia, vram_gb: 24, index: 1, pci: "0000:02:00.0"}
      c: {vendor: nvidia, vram_gb: 8, index: 2, pci: "0000:03:00.0"}
workloads:
  vm: {target: proxmox, host: pve, vmid: 100, gpu: {vram_gb: 20, passthrough: true}}
  pair: {target: compose, host: pve, gpu: {vram_gb: 6, count: 2, pin: a}}
"""


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_a_pinned_pair_leaves_the_passthrough_vm_its_gpu(strategy, tmp_path):
    """pair's second GPU by rank alone would be b (most free), the only GPU left that vm fits on."""
    result = placed(write(tmp_path, PINNED_PAIR), strategy, tmp_path)
    gpus = {n: list(a.gpus) for n, a in result.placement.assignments.items()}
    if strategy == "manual":
        assert gpus["pair"] == ["pve/a", "pve/b"]   # manual places no vm (PLACE005)
        return
    assert gpus == {"pair": ["pve/a", "pve/c"], "vm": ["pve/b"]}
    assert [f.code for f in result.diag.findings if f.severity == "error"] == []


GREEDY_TRAP = """
project_name: t
global: {gpu_policy: shared, placement: {headroom_gb: 0}}
domains: {}
hosts:
  h:
    gpus:
      g20: {vendor: nvidia, vram_gb: 20, index: 0}
      g12: {vendor: nvidia, vram_gb: 12, index: 1}
      g4a: {vendor: nvidia, vram_gb: 4, index: 2}
      g4b: {vendor: nvidia, vram_gb: 4, index: 3}
      g4c: {vendor: nvidia, vram_gb: 4, index: 4}
workloads:
  a: {target: compose, host: h, gpu: {vram_gb: 11.9}}
  b: {target: compose, host: h, gpu: {vram_gb: 10.45}}
  c: {target: compose, host: h, gpu: {vram_gb: 9.2}}
"""


@pytest.mark.parametrize("strategy", SEARCHING)
def test_every_strategy_fits_what_fits(strategy, tmp_path):
    """11.9 + 10.45 + 9.2 fit only as 20: 10.45 + 9.2 and 12: 11.9 (the greedy puts 11.9 on the 20)."""
    result = placed(write(tmp_path, GREEDY_TRAP), strategy, tmp_path)
    assert {n: list(a.gpus) for n, a in result.placement.assignments.items()} == {
        "a": ["h/g12"], "b": ["h/g20"], "c": ["h/g20"]}
    assert [f.code for f in result.diag.findings if f.code != "GPU002"] == []


BALANCED_FOUR = """
project_name: t
global: {gpu_policy: shared, placement: {strategy: balanced}}
domains: {}
hosts:
  h:
    gpus:
      g0: {vendor: nvidia, vram_gb: 80, index: 0}
      g1: {vendor: nvidia, vram_gb: 80, index: 1}
workloads:
  s1: {target: compose, host: h, gpu: {vram_gb: 10}}
  s2: {target: compose, host: h, gpu: {vram_gb: 10}}
  s3: {target: compose, host: h, gpu: {vram_gb: 10}}
  s4: {target: compose, host: h, gpu: {vram_gb: 10}}
"""


def test_balanced_settles_sync_three_times_and_plan_is_clean(tmp_path):
    path = write(tmp_path, BALANCED_FOUR)
    for _ in range(3):
        assert run_psot("sync", str(path)).returncode == 0
        plan = run_psot("plan", str(path))
        assert plan.returncode == 0, plan.stdout + plan.stderr


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_a_second_placement_from_the_first_changes_nothing(strategy, tmp_path):
    from generator.diagnostics.findings import Diagnostics
    from generator.placement.core import place

    text = FOUR.replace("g1: {vendor: nvidia, vram_gb: 10, index: 1}",
                        "g1: {vendor: nvidia, vram_gb: 10, index: 1}\n"
                        "      g2: {vendor: nvidia, vram_gb: 10, index: 2}")
    text = text.replace("w3: {target: compose, host: h, gpu: {vram_gb: 11.4}}",
                        "w3: {target: compose, host: h, gpu: {vram_gb: 3.7, count: 2, pin: g2}}")
    infra = compile_infra(write(tmp_path, text), until="place", output_dir=tmp_path / "o").need_infra()
    first = place(infra, Diagnostics(), strategy)
    assert first is not None
    previous = {n: a.gpus for n, a in first.assignments.items() if a.gpus}
    second = place(infra, Diagnostics(), strategy, previous)
    assert second is not None and second.assignments == first.assignments


def test_five_thousand_kubernetes_workloads_without_host_place_without_recursion_or_overflow(tmp_path):
    """Issue 21 item 1: 5 000 workloads without `host` over 500 GPUs (50 nodes of 10): every strategy that
    searches places them all within capacity, and no search recurses per workload (this once raised
    RecursionError at ~980)."""
    import random

    import yaml

    from generator.diagnostics.findings import Diagnostics
    from generator.placement.core import place

    rng = random.Random(21)
    hosts = {f"node-{h:02d}": {"platform": "kubernetes",
                               "gpus": {f"g{i}": {"vendor": "nvidia", "vram_gb": 80, "index": i} for i in range(10)}}
             for h in range(50)}
    workloads = {f"w{w:05d}": {"target": "kubernetes", "gpu": {"vram_gb": rng.choice([1, 2, 3.5, 4, 6]),
                                                                 "isolate": rng.random() < 0.02}}
                 for w in range(5000)}
    doc = {"project_name": "s", "global": {"gpu_policy": "shared"}, "domains": {}, "hosts": hosts,
           "workloads": workloads}
    path = write(tmp_path, yaml.safe_dump(doc))
    infra = compile_infra(path, until="validate", output_dir=tmp_path / "o").need_infra()
    for strategy in SEARCHING:
        placement = place(infra, Diagnostics(), strategy)
        assert placement is not None and placement.unplaced == ()
        over = [k for k, u in placement.gpus.items() if u.used_gb > u.capacity_gb - 0.5 + 1e-9]
        assert over == [], (strategy, over)
