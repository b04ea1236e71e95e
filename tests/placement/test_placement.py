"""Placement: vram_based and manual, pins, budgets, exact assignments."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from generator.pipeline import compile_infra
from generator.serialize import load_yaml
from tests.conftest import SEED_001, run_psot


def compiled(path: Path, **kwargs):
    result = compile_infra(path, until="place", **kwargs)
    return result, {f.code: f for f in result.diag.findings}


def gpus_of(result) -> dict[str, list[str]]:
    return {name: list(a.gpus) for name, a in result.placement.assignments.items()}


def test_seed_001_vram_based_exact_assignment():
    result, _ = compiled(SEED_001)
    assert result.ok
    assert gpus_of(result) == {
        "ai-clip": ["ws/rtx-a5500"],
        "ai-enrichment": ["ws/rtx-a400"],
        "ai-florence": ["ws/rtx-a5500"],
        "ai-llm": ["ws/rtx-a5500"],
        "ai-yolo26": ["ws/rtx-a400"],
    }
    assert result.placement.unplaced == ()


def test_seed_001_budget_is_adjusted_with_the_seed_warning():
    result, by_code = compiled(SEED_001)
    enrichment = result.placement.assignments["ai-enrichment"]
    assert enrichment.budget_gb == 3.5
    warning = by_code["VRAM001"]
    assert warning.severity == "warning"
    assert warning.message == ("ai-enrichment budget (6.8 GB) exceeds GPU 1 (ws/rtx-a400), 4 GB. "
                               "Auto-adjusted to 3.5 GB.")
    assert warning.path == "workloads.ai-enrichment.gpu.budget.gb"
    assert (warning.line, warning.column) == (66, 41)


def test_place_json_has_the_spec_shape():
    result = run_psot("place", str(SEED_001), "--format", "json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert list(body) == ["strategy", "assignments", "gpus", "unplaced", "findings"]
    assert body["assignments"]["ai-llm"] == {"gpus": ["ws/rtx-a5500"], "vram_gb": 21.7, "budget_gb": None,
                                             "fallback": ["ws/rtx-a400"]}
    assert body["gpus"]["ws/rtx-a400"] == {"capacity_gb": 4, "used_gb": 4.15,
                                           "consumers": ["ai-enrichment", "ai-yolo26"], "status": "ok"}
    assert {f["code"] for f in body["findings"]} == {"GPU002", "VRAM001", "VRAM002"}


INVENTORY = """
project_name: t
global:
  gpu_policy: {policy}
  placement: {{strategy: {strategy}}}
domains: {{}}
hosts:
  ws:
    platform: docker
    gpus:
      big: {{vendor: nvidia, vram_gb: 24, index: 0, compute_capability: "8.6"}}
      small: {{vendor: nvidia, vram_gb: 8, index: 1, compute_capability: "7.5", status: {small_status}}}
      radeon: {{vendor: amd, vram_gb: 16, index: 2}}
workloads:
{workloads}
"""


def make(infra_file, workloads: str, policy="shared", strategy="vram_based", small_status="ok") -> Path:
    body = textwrap.indent(textwrap.dedent(workloads).strip("\n"), "  ")
    return infra_file(INVENTORY.format(policy=policy, strategy=strategy, small_status=small_status,
                                       workloads=body))


def test_largest_first_each_to_the_gpu_with_most_free_vram(infra_file):
    path = make(infra_file, """
        a: {target: compose, host: ws, gpu: {vram_gb: 10}}
        b: {target: compose, host: ws, gpu: {vram_gb: 6}}
        c: {target: compose, host: ws, gpu: {vram_gb: 6}}
        d: {target: compose, host: ws, gpu: {vram_gb: 1}}
    """)
    result, _ = compiled(path)
    # a -> big (23.5 free); b -> radeon (15.5 > 13.5); c -> big (13.5 > 9.5); d -> radeon (9.5 > 7.5)
    assert gpus_of(result) == {"a": ["ws/big"], "b": ["ws/radeon"], "c": ["ws/big"], "d": ["ws/radeon"]}


def test_ties_are_broken_by_name(infra_file):
    path = make(infra_file, """
        zeta: {target: compose, host: ws, gpu: {vram_gb: 2, vendor: nvidia}}
        alpha: {target: compose, host: ws, gpu: {vram_gb: 2, vendor: nvidia}}
    """)
    result, _ = compiled(path)
    # Same request: alpha goes first (name order) and takes the GPU with the most free VRAM.
    assert gpus_of(result) == {"alpha": ["ws/big"], "zeta": ["ws/big"]}


def test_vendor_and_compute_capability_restrict_eligible_gpus(infra_file):
    path = make(infra_file, """
        rocm: {target: compose, host: ws, gpu: {vram_gb: 1, vendor: amd}}
        cuda: {target: compose, host: ws, gpu: {vram_gb: 1, min_compute_capability: "8.0"}}
        old: {target: compose, host: ws, gpu: {vram_gb: 30, vendor: nvidia}}
    """)
    result, by_code = compiled(path)
    assert gpus_of(result)["rocm"] == ["ws/radeon"]
    assert gpus_of(result)["cuda"] == ["ws/big"]
    assert by_code["VRAM003"].message == "old requires ~30 GB, GPU 0 (ws/big) only has 24 GB"


def test_exclusive_gives_each_consumer_a_gpu_of_its_own(infra_file):
    path = make(infra_file, """
        a: {target: compose, host: ws, gpu: {vram_gb: 2}}
        b: {target: compose, host: ws, gpu: {vram_gb: 2}}
        c: {target: compose, host: ws, gpu: {vram_gb: 2}}
    """, policy="exclusive")
    result, _ = compiled(path)
    assert sorted(g for gs in gpus_of(result).values() for g in gs) == ["ws/big", "ws/radeon", "ws/small"]


def test_pins_win_and_budget_follows_the_pinned_gpu(infra_file):
    path = make(infra_file, """
        llm: {target: compose, host: ws, gpu: {vram_gb: 20, pin: small}}
        enrich: {target: compose, host: ws, gpu: {pin: ws/small, budget: {gb: 12}}}
    """)
    result, by_code = compiled(path)
    assert gpus_of(result) == {"enrich": ["ws/small"], "llm": ["ws/small"]}
    assert result.placement.assignments["enrich"].budget_gb == 7.5
    assert by_code["VRAM003"].message == "llm requires ~20 GB, GPU 1 (ws/small) only has 8 GB"
    assert by_code["VRAM001"].message == ("enrich budget (12 GB) exceeds GPU 1 (ws/small), 8 GB. "
                                          "Auto-adjusted to 7.5 GB.")


def test_pin_to_an_unavailable_gpu_falls_back_with_a_warning(infra_file):
    path = make(infra_file, """
        svc: {target: compose, host: ws, gpu: {vram_gb: 4, pin: small}}
    """, small_status="unavailable")
    result, by_code = compiled(path)
    assert gpus_of(result) == {"svc": ["ws/big"]}
    assert by_code["PLACE003"].message == "svc is pinned to ws/small, which is unavailable; it falls back to ws/big"
    assert result.placement.gpus["ws/small"].consumers == ()


def test_pin_to_an_unavailable_gpu_with_nothing_to_fall_back_to_is_one_finding(infra_file):
    """Not PLACE003 "falls back" and PLACE002 "gets no GPU" for the same consumer: PLACE003 says both."""
    path = make(infra_file, """
        svc: {target: compose, host: ws, gpu: {vram_gb: 4, pin: small, min_compute_capability: "7.5"}}
        old: {target: compose, host: ws, gpu: {vram_gb: 4, vendor: nvidia, min_compute_capability: "7.5"}}
    """, small_status="unavailable")
    path.write_text(path.read_text().replace('compute_capability: "8.6"', 'compute_capability: "7.0"'))
    for strategy in ("vram_based", "latency_optimized", "isolation_first", "balanced"):
        result = compile_infra(path, strategy=strategy, until="place")
        assert result.placement.unplaced == ("old", "svc"), strategy
        assert [(f.code, f.message) for f in result.diag.findings if f.code.startswith("PLACE")] == [
            ("PLACE003", "svc is pinned to ws/small, which is unavailable; it gets no other GPU: "
                         "no available compute capability >= 7.5 GPU on host 'ws'"),
            ("PLACE002", "old gets no GPU: no available nvidia compute capability >= 7.5 GPU on host 'ws'"),
        ], strategy


def test_passthrough_vm_pinned_to_an_unavailable_gpu_is_told_why_no_other_gpu_takes_it(infra_file):
    path = infra_file("""
        project_name: t
        global: {gpu_policy: shared}
        domains: {}
        hosts:
          pve:
            iommu: true
            gpus:
              ti: {vendor: nvidia, vram_gb: 16, index: 0, pci: "0000:01:00.0", status: unavailable}
              gtx: {vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0"}
        workloads:
          gaming: {target: proxmox, host: pve, vmid: 100, gpu: {pin: ti, vram_gb: 12}}
          plex: {target: proxmox, host: pve, vmid: 101, gpu: {vram_gb: 2, passthrough: false}}
    """)
    result, by_code = compiled(path)
    assert gpus_of(result) == {"gaming": [], "plex": ["pve/gtx"]}
    assert [(f.code, f.message) for f in result.diag.findings if f.code.startswith("PLACE")] == [
        ("PLACE003", "gaming is pinned to pve/ti, which is unavailable; it gets no other GPU: "
                     "it needs a whole GPU with 12 GB and no free eligible one has it")]


def test_manual_with_a_pin_to_an_unavailable_gpu_says_so_once(infra_file):
    path = make(infra_file, """
        svc: {target: compose, host: ws, gpu: {vram_gb: 4, pin: small}}
    """, strategy="manual", small_status="unavailable")
    result, _ = compiled(path)
    assert [(f.code, f.severity, f.message, f.path) for f in result.diag.findings if f.code.startswith("PLACE")] == [
        ("PLACE005", "error", "strategy is 'manual' but svc is pinned to ws/small, which is unavailable, and "
                              "manual places nothing else; pin it to an available GPU", "workloads.svc.gpu.pin")]


def test_unknown_pin_is_an_error_with_a_suggestion(infra_file):
    path = make(infra_file, """
        svc: {target: compose, host: ws, gpu: {pin: smal}}
    """)
    result, by_code = compiled(path)
    assert not result.ok
    assert by_code["REF002"].message == ("svc: pin 'smal' names no GPU in hosts; did you mean 'small'? "
                                         "one of: ws/big, ws/radeon, ws/small")


def test_unknown_pin_far_from_any_gpu_lists_the_gpus(infra_file):
    path = make(infra_file, """
        svc: {target: compose, host: ws, gpu: {pin: ws/rtx-9090}}
    """)
    result, by_code = compiled(path)
    assert by_code["REF002"].message == ("svc: pin 'ws/rtx-9090' names no GPU in hosts; "
                                         "one of: ws/big, ws/radeon, ws/small")


def test_unknown_pin_on_a_large_inventory_lists_ten_gpus_and_counts_the_rest(infra_file):
    gpus = "\n".join(f"      g{i:02}: {{vendor: nvidia, vram_gb: 8, index: {i}}}" for i in range(12))
    path = infra_file(f"""
project_name: t
global: {{}}
domains: {{}}
hosts:
  ws:
    gpus:
{gpus}
workloads:
  svc: {{target: compose, host: ws, gpu: {{pin: g1}}}}
""")
    result, by_code = compiled(path)
    assert by_code["REF002"].message == (
        "svc: pin 'g1' names no GPU in hosts; did you mean 'g01'? one of: ws/g00, ws/g01, ws/g02, ws/g03, "
        "ws/g04, ws/g05, ws/g06, ws/g07, ws/g08, ws/g09 and 2 more")


def test_unknown_host_is_an_error(infra_file):
    path = make(infra_file, """
        svc: {target: compose, host: wss, gpu: {vram_gb: 1}}
    """)
    result, by_code = compiled(path)
    assert by_code["REF001"].message == "svc: host 'wss' is not defined under hosts; did you mean 'ws'?"


def test_no_eligible_gpu_is_reported_never_dropped(infra_file):
    # The only GPU with compute capability 7.5 is unavailable: the request is sound (FIT003 passes),
    # but nothing can take it now.
    path = make(infra_file, """
        turing: {target: compose, host: ws, gpu: {vendor: nvidia, min_compute_capability: "7.5"}}
        ok: {target: compose, host: ws, gpu: {vendor: amd}}
    """, small_status="unavailable")
    path.write_text(path.read_text().replace('compute_capability: "8.6"', 'compute_capability: "7.0"'))
    result, by_code = compiled(path)
    assert result.ok
    assert result.placement.unplaced == ("turing",)
    assert by_code["PLACE002"].message == ("turing gets no GPU: no available nvidia compute capability >= 7.5 "
                                           "GPU on host 'ws'")


def test_manual_places_pins_and_refuses_unpinned(infra_file):
    path = make(infra_file, """
        pinned: {target: compose, host: ws, gpu: {pin: radeon}}
        loose: {target: compose, host: ws}
    """, strategy="manual")
    result, by_code = compiled(path)
    assert not result.ok
    assert gpus_of(result) == {"loose": [], "pinned": ["ws/radeon"]}
    assert by_code["PLACE005"].message == ("strategy is 'manual' but loose has no usable pin; "
                                           "set gpu.pin to a GPU (name or host/gpu)")


def test_headroom_is_kept_free_when_placing(infra_file):
    path = make(infra_file, """
        a: {target: compose, host: ws, gpu: {vram_gb: 7.6, vendor: nvidia, min_compute_capability: "7.5"}}
        b: {target: compose, host: ws, gpu: {vram_gb: 16, vendor: nvidia}}
    """)
    result, _ = compiled(path)
    # b takes big first (16 of 23.5); a (7.6) fits neither small (7.5 usable) nor big (7.5 left):
    # both overflow, and big has the most free VRAM left.
    assert gpus_of(result) == {"a": ["ws/big"], "b": ["ws/big"]}


def test_count_takes_several_gpus_and_warns_when_short(infra_file):
    # Three GPUs match (FIT003 passes), but one is unavailable: placement gives two and says so.
    path = make(infra_file, """
        train: {target: compose, host: ws, gpu: {vram_gb: 4, count: 3}}
    """, small_status="unavailable")
    result, by_code = compiled(path)
    assert gpus_of(result) == {"train": ["ws/big", "ws/radeon"]}
    assert by_code["PLACE006"].message.startswith("train asks for 3 GPUs but gets 2")


def test_anklume_file_without_inventory_places_nothing_and_warns_nothing(infra_file):
    path = infra_file("""
        project_name: lab
        global: {gpu_policy: shared}
        domains:
          ai-tools:
            profiles:
              nvidia-compute:
                devices:
                  gpu: {type: gpu, gputype: physical}
            machines:
              gpu-server: {type: lxc, gpu: true, profiles: [default, nvidia-compute]}
              worker: {type: lxc, profiles: [nvidia-compute]}
    """)
    result, _ = compiled(path)
    assert result.ok and [f.code for f in result.diag.findings] == ["GPU002"]
    assert set(result.placement.assignments) == {"gpu-server", "worker"}
    assert result.placement.unplaced == ()


COUNT_ALL = """
project_name: t
global: {gpu_policy: shared}
domains:
  ai:
    machines:
      notebook: {type: lxc, gpu: {count: all, vram_gb: 4}}
hosts:
  ws:
    platform: docker
    gpus:
      a: {vendor: nvidia, vram_gb: 24, index: 0, compute_capability: "8.6"}
      b: {vendor: nvidia, vram_gb: 16, index: 1, compute_capability: "8.6"}
      c: {vendor: nvidia, vram_gb: 8, index: 2, compute_capability: "8.6", status: unavailable}
      d: {vendor: amd, vram_gb: 16, index: 3}
  k1:
    platform: kubernetes
    gpus:
      g0: {vendor: nvidia, vram_gb: 24}
      g1: {vendor: nvidia, vram_gb: 24}
  lab:
    platform: incus
    gpus:
      r0: {vendor: nvidia, vram_gb: 12, pci: "0000:01:00.0"}
      r1: {vendor: nvidia, vram_gb: 12, pci: "0000:02:00.0"}
  pve:
    platform: proxmox
    iommu: true
    gpus:
      p0: {vendor: nvidia, vram_gb: 8, pci: "0000:03:00.0", pci_id: "10de:2c05"}
      p1: {vendor: nvidia, vram_gb: 16, pci: "0000:04:00.0", pci_id: "10de:2c05"}
workloads:
  train: {target: compose, host: ws, gpu: {count: all, vendor: nvidia, vram_gb: 6}}
  embed: {target: compose, host: ws, gpu: {vendor: amd, vram_gb: 4}}
  finetune: {target: kubernetes, host: k1, gpu: {count: all, vram_gb: 10}}
  render-vm: {target: proxmox, host: pve, vmid: 100, gpu: {count: all, vram_gb: 4}}
"""



def test_count_all_takes_every_eligible_gpu_of_the_host(infra_file, tmp_path):
    """Every GPU of its host that its request accepts and that is not unavailable: ws/c (unavailable) and
    ws/d (amd) are not train's; an Incus machine's host is the only Incus host. A consumer's GPUs are listed
    by key, whatever order placement chose them in (a second sync keeps an Incus machine's devices in order)."""
    result, _ = compiled(infra_file(COUNT_ALL), output_dir=tmp_path / "out")
    assert result.ok, [f.format() for f in result.diag.findings]
    assert gpus_of(result) == {"embed": ["ws/d"], "finetune": ["k1/g0", "k1/g1"], "notebook": ["lab/r0", "lab/r1"],
                               "render-vm": ["pve/p0", "pve/p1"], "train": ["ws/a", "ws/b"]}
    assert [f.code for f in result.diag.findings if f.code.startswith("PLACE")] == []


def test_count_all_renders_as_the_same_count_written_as_a_number(infra_file, tmp_path):
    every = infra_file(COUNT_ALL, name="all/infra.yml")
    numbers = infra_file(COUNT_ALL.replace("count: all", "count: 2"), name="numbers/infra.yml")
    all_tree = compile_infra(every).tree
    assert compile_infra(numbers).tree == all_tree
    # Compose gets the placed GPUs' device_ids, not compose's own `count: all` (which would be every GPU,
    # the unavailable and the AMD one too).
    override = load_yaml(all_tree["compose/ws/docker-compose.gpu-override.yml"])
    assert override["services"]["train"]["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "device_ids": ["0", "1"], "capabilities": ["gpu"]}]


def test_count_all_without_one_of_its_gpus_asks_for_the_rest(infra_file, tmp_path):
    """A GPU gone is no longer eligible: `all` is the rest, where `count: 2` is short of one (PLACE006)."""
    result, by_code = compiled(infra_file(COUNT_ALL), output_dir=tmp_path / "out", without=("ws/b",))
    assert gpus_of(result)["train"] == ["ws/a"]
    assert "PLACE006" not in by_code
    numbers = infra_file(COUNT_ALL.replace("count: all", "count: 2"), name="numbers/infra.yml")
    result, by_code = compiled(numbers, output_dir=tmp_path / "out", without=("ws/b",))
    assert gpus_of(result)["train"] == ["ws/a"]
    assert by_code["PLACE006"].message == ("train asks for 2 GPUs but gets 1: no available nvidia GPU on host "
                                           "'ws' beyond ws/a")


def test_count_all_takes_degraded_gpus_too_without_place004(infra_file, tmp_path):
    """PLACE004 says a degraded GPU was taken because no ok one could be: `all` asked for it."""
    text = COUNT_ALL.replace('b: {vendor: nvidia, vram_gb: 16, index: 1, compute_capability: "8.6"}',
                             'b: {vendor: nvidia, vram_gb: 16, index: 1, compute_capability: "8.6", status: degraded}')
    result, by_code = compiled(infra_file(text), output_dir=tmp_path / "out")
    assert gpus_of(result)["train"] == ["ws/a", "ws/b"]
    assert "PLACE004" not in by_code
    numbers, by_code = compiled(infra_file(text.replace("count: all", "count: 2"), name="numbers/infra.yml"),
                                output_dir=tmp_path / "out")
    assert by_code["PLACE004"].message == "train is placed on ws/b, which is degraded: no ok GPU can take it"
