"""GPU modes (generator/modes/): each mode applied to the document, compiled, placed and previewed.

The seed 000 example with its `gaming` and `ai` modes (examples/gpu-modes/) is the input of most tests;
a mode that breaks a rule, a misspelt consumer or GPU, and the modes' trees are each asserted exactly.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from generator import modes
from generator.diagnostics.findings import Diagnostics
from generator.load import loader
from generator.pipeline import Compilation, compile_infra
from tests.conftest import EXAMPLES, run_psot

GPU_MODES = EXAMPLES / "gpu-modes" / "infra.yml"
SMALL = """\
    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
          rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
    workloads:
      llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
      box: {target: compose, host: ws, gpu: {vram_gb: 2}}
"""


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(GPU_MODES.parent, tmp_path / "gpu-modes", ignore=shutil.ignore_patterns("generated"))
    return tmp_path / "gpu-modes" / "infra.yml"


def _lines(result: Compilation) -> list[str]:
    """The findings as printed, their file named relative to the input's directory (as psot run there does)."""
    return [f.format().removeprefix(f"{result.source.parent}/") for f in result.diag.findings]


def _gpus(body: dict) -> dict[str, list[str]]:
    return {name: a["gpus"] for name, a in body["assignments"].items()}


def test_the_interface_names_the_modes_and_the_active_one():
    result = compile_infra(GPU_MODES, until="validate")
    assert modes.mode_names(result.need_infra()) == ("gaming", "ai")
    assert modes.active_mode(result.need_infra()) == "gaming"
    assert result.mode == "gaming"
    assert compile_infra(GPU_MODES, until="validate", mode="ai").mode == "ai"
    seed_000 = compile_infra(EXAMPLES / "dual-gpu-proxmox" / "infra.yml", until="validate")
    assert (modes.mode_names(seed_000.need_infra()), modes.active_mode(seed_000.need_infra()), seed_000.mode) == \
        ((), None, None)


def test_place_mode_gaming_and_ai_give_each_mode_its_gpus(tmp_path):
    infra = _copy(tmp_path)
    gaming = run_psot("place", "--mode", "gaming", "--format", "json", cwd=infra.parent)
    ai = run_psot("place", "--mode", "ai", "--format", "json", cwd=infra.parent)
    assert (gaming.returncode, ai.returncode) == (0, 0), (gaming.stderr, ai.stderr)
    gaming_body, ai_body = json.loads(gaming.stdout), json.loads(ai.stdout)
    assert (gaming_body["mode"], ai_body["mode"]) == ("gaming", "ai")
    assert _gpus(gaming_body) == {"ollama": ["pve/gtx-970"], "plex": ["pve/gtx-970"],
                                  "win11-gaming": ["pve/rtx-5070-ti"]}
    assert _gpus(ai_body) == {"ollama": ["pve/rtx-5070-ti"], "plex": ["pve/rtx-5070-ti"]}
    assert ai_body["gpus"]["pve/gtx-970"] == {"capacity_gb": 4, "used_gb": 0, "consumers": [],
                                              "status": "unavailable"}
    assert [(f["code"], f["message"]) for f in ai_body["findings"]] == [
        ("GPU002", "GPU policy is 'shared': 2 instances share GPU access on GPU 1 (pve/rtx-5070-ti): ollama, "
                   "plex. No VRAM isolation on consumer GPUs.")]


def test_compare_modes_puts_the_modes_side_by_side(tmp_path):
    done = run_psot("place", "--compare-modes", cwd=_copy(tmp_path).parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "CONSUMER      gaming           ai\n"
        "ollama        pve/gtx-970      pve/rtx-5070-ti\n"
        "plex          pve/gtx-970      pve/rtx-5070-ti\n"
        "win11-gaming  pve/rtx-5070-ti  (disabled)\n"
        "\n"
        "GPU VRAM         gaming       ai\n"
        "pve/gtx-970      10.5/4 GB !  0/4 GB (unavailable)\n"
        "pve/rtx-5070-ti  12/16 GB     10.5/16 GB\n"
        "\n"
        "FINDINGS  gaming  ai\n"
        "errors    0       0\n"
        "warnings  3       1\n")
    assert "infra.yml:87:44: warning[VRAM003] mode 'gaming': llama3.1-8b-q8 requires ~9.5 GB, GPU 0 " \
           "(pve/gtx-970) only has 4 GB\n" in done.stderr


def test_a_mode_that_breaks_a_rule_fails_the_compile_naming_the_mode(tmp_path):
    infra = _copy(tmp_path)
    infra.write_text(infra.read_text(encoding="utf-8").replace("    unavailable: [gtx-970]\n", ""), encoding="utf-8")
    done = run_psot("validate", cwd=infra.parent)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        "infra.yml:38:5: error[DRV003] mode 'ai': host 'pve' drives NVIDIA GPUs that no one kernel-module flavour "
        "runs: pve/rtx-5070-ti (GeForce RTX 5070 Ti) needs the open modules (Blackwell), pve/gtx-970 (GeForce GTX "
        "970) needs the proprietary modules (Maxwell); a host loads one nvidia.ko. Pass one card through to a VM "
        "(gpu.passthrough), which runs its own driver, or take it out of the inventory; or set "
        "hosts.pve.nvidia.kernel_modules to the flavour the host runs, and the GPUs it cannot drive become "
        "unavailable")
    compare = run_psot("place", "--compare-modes", cwd=infra.parent)
    assert compare.returncode == 1
    assert compare.stdout.splitlines()[-2:] == ["errors    0       1", "warnings  3       1"]


def test_a_finding_about_a_modes_request_points_at_the_mode(infra_file):
    infra = infra_file(SMALL + """\
    modes:
      big:
        consumers:
          llm: {gpu: {vram_gb: 30, pin: rtx-4090}}
    """)
    result = compile_infra(infra, until="validate")
    assert _lines(result) == [
        "infra.yml:8:7: warning[VRAM002] mode 'big': Combined VRAM (~30 GB) exceeds GPU 0 (ws/rtx-4090) capacity "
        "(24 GB): llm",
        "infra.yml:16:28: warning[VRAM003] mode 'big': llm requires ~30 GB, GPU 0 (ws/rtx-4090) only has 24 GB"]
    assert result.mode is None and result.ok


def test_an_unknown_consumer_or_gpu_is_an_error_with_did_you_mean(infra_file):
    infra = infra_file(SMALL + """\
    modes:
      ai:
        unavailable: [rtx-4080]
        consumers:
          lmm: {enabled: false}
          bxo: {gpu: false}
    """)
    result = compile_infra(infra, until="validate")
    assert _lines(result) == [
        "infra.yml:15:19: error[MODE003] mode 'ai': unavailable GPU 'rtx-4080' is not in hosts; did you mean "
        "'rtx-4090'? one of: ws/rtx-4090, ws/rtx-a400",
        "infra.yml:17:7: error[MODE002] mode 'ai': consumer 'lmm' is not declared in workloads or in a domain's "
        "machines; did you mean 'llm'?",
        "infra.yml:18:7: error[MODE002] mode 'ai': consumer 'bxo' is not declared in workloads or in a domain's "
        "machines; did you mean 'box'?"]


def test_an_unknown_mode_is_mode001(infra_file):
    infra = infra_file(SMALL.replace("global: {}", "global: {mode: aii}") + "    modes:\n      ai: {}\n")
    assert _lines(compile_infra(infra, until="validate")) == [
        "infra.yml:2:16: error[MODE001] mode 'aii' is not defined under modes; did you mean 'ai'? (modes: ai)"]
    done = run_psot("place", "--mode", "gamin", cwd=infra.parent)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == ("<command line>:1:1: error[MODE001] --mode gamin: mode 'gamin' is not "
                                           "defined under modes (modes: ai)")


def test_a_mode_disables_a_machine_and_replaces_a_budget(infra_file):
    infra = infra_file(SMALL.replace("gpu: {vram_gb: 10}", "gpu: {vram_gb: 3, budget: {gb: 3}}") + """\
    modes:
      night:
        consumers:
          box: {enabled: false}
          llm: {budget: {env: LLM_GB, gb: 2}}
    """)
    result = compile_infra(infra, until="place", mode="night")
    assert result.ok and result.mode == "night"
    assert list(result.need_infra().consumers) == ["llm"]
    assert result.need_infra().consumers["llm"].request.budget.env == "LLM_GB"
    assert result.need_placement().assignments["llm"].budget_gb == 2
    assert "box" not in result.need_infra().workloads
    # the document the mode makes is a copy: the base is unchanged
    base = compile_infra(infra, until="place")
    assert list(base.need_infra().consumers) == ["box", "llm"]
    assert base.need_placement().assignments["llm"].budget_gb == 3


def test_generated_holds_the_active_tree_and_every_modes_tree(tmp_path):
    infra = _copy(tmp_path)
    tree = compile_infra(infra).need_tree()
    top = {p: c for p, c in tree.items() if not p.startswith("modes/")}
    per_mode = {m: {p.removeprefix(f"modes/{m}/"): c for p, c in tree.items() if p.startswith(f"modes/{m}/")}
                for m in ("gaming", "ai")}
    assert set(tree) == set(top) | {f"modes/{m}/{p}" for m, files in per_mode.items() for p in files}
    assert per_mode["gaming"] == top   # the active mode is gaming: its tree is the top one
    assert sorted(per_mode["ai"]) == ["compose/pve/docker-compose.gpu-override.yml", "placement.yml"]
    # `--mode ai`: ai's tree at the top, the modes' trees unchanged
    assert compile_infra(infra, mode="ai").need_tree() == per_mode["ai"] | {
        p: c for p, c in tree.items() if p.startswith("modes/")}
    assert compile_infra(infra).need_tree() == tree   # deterministic


def test_without_modes_the_tree_has_no_modes_directory(infra_file):
    tree = compile_infra(infra_file(SMALL)).need_tree()
    assert not [p for p in tree if p.startswith("modes/")]


def test_plan_mode_shows_what_the_tree_would_be(tmp_path):
    infra = _copy(tmp_path)
    assert run_psot("sync", cwd=infra.parent).returncode == 0
    done = run_psot("plan", "--mode", "ai", cwd=infra.parent)
    assert done.returncode == 2, done.stderr
    assert [line for line in done.stdout.splitlines() if line[:2] in ("~ ", "- ", "+ ")] == [
        "~ compose/pve/docker-compose.gpu-override.yml", "~ placement.yml", "- proxmox/mapping/pci.cfg",
        "- proxmox/pve/host/cmdline", "- proxmox/pve/host/modprobe.d/vfio.conf", "- proxmox/pve/host/modules",
        "- proxmox/pve/qemu-server/100.conf"]
    assert run_psot("plan", "--mode", "gaming", cwd=infra.parent).returncode == 0


def test_apply_leaves_the_input_document_alone():
    doc = loader.load(GPU_MODES, Diagnostics())
    assert doc is not None
    before = copy.deepcopy(doc.data), dict(doc.values)
    applied = modes.apply(doc, "ai")
    assert (doc.data, doc.values) == before
    assert "win11-gaming" not in applied.data["workloads"]
    assert applied.data["hosts"]["pve"]["gpus"]["gtx-970"]["status"] == "unavailable"
    assert applied.locate(("hosts", "pve", "gpus", "gtx-970", "status"))[1:] == (97, 19)
    assert applied.locate(("workloads", "ollama", "gpu", "pin"))[1:] == (101, 27)


def test_a_mode_name_must_be_a_file_name(infra_file):
    infra = infra_file("""\
    project_name: lab
    global: {mode: ../x}
    domains: {}
    modes:
      ../x: {}
    """)
    result = compile_infra(infra)
    assert _lines(result) == [
        "infra.yml:2:16: error[SCHEMA001] '../x' is not a valid mode: use lower-case letters, digits and '-', "
        "starting and ending with a letter or digit",
        "infra.yml:5:3: error[NAME001] modes name '../x' is not a valid name: use lower-case letters, digits and "
        "'-', starting and ending with a letter or digit (names become file names)"]
    assert result.tree is None


def test_compare_strategies_in_a_mode(tmp_path):
    from generator.placement.preview import compare
    comparison = compare(_copy(tmp_path), (), tmp_path / "out", "ai")
    assert {s: r.mode for s, r in comparison.results.items()} == dict.fromkeys(comparison.results, "ai")
    assert {s: "win11-gaming" in r.need_placement().assignments for s, r in comparison.results.items()} == \
        dict.fromkeys(comparison.results, False)


def test_a_mode_disables_an_incus_machine_and_gives_another_a_gpu(infra_file):
    infra = infra_file("""\
    project_name: lab
    global: {}
    domains:
      ai:
        machines:
          box: {type: lxc, gpu: {vram_gb: 2}}
          other: {type: lxc}
    hosts:
      nuc:
        platform: incus
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
    modes:
      idle:
        consumers:
          box: {enabled: false}
      busy:
        consumers:
          other: {gpu: {vram_gb: 1}}
    """)
    result = compile_infra(infra, until="validate")
    assert _lines(result) == [
        "infra.yml:7:7: error[GPU001] mode 'busy': GPU policy is 'exclusive' but 2 instances have GPU access on "
        "GPU 0 (nuc/rtx-4090): box, other. Set global.gpu_policy: shared to allow this."]
    done = run_psot("place", "--compare-modes", cwd=infra.parent)
    assert done.returncode == 1
    assert done.stdout.splitlines()[:3] == ["CONSUMER  idle        busy",
                                            "box       (disabled)  nuc/rtx-4090",
                                            "other     (no GPU)    nuc/rtx-4090"]
    idle = compile_infra(infra, until="place", mode="idle")
    assert list(idle.need_infra().domains["ai"].machines) == ["other"]
