"""FIT003 (fit_count.py): fewer GPUs match a request on the hosts its consumer can use than its `count`.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers
from tests.rules.helpers import HOMELAB as HEAD
from tests.rules.helpers import NODES, PVE, compiled, found, workload

infra_file = helpers.infra_file


def test_fit003_one_gpu_and_none_meets_the_capability(infra_file):
    text = HEAD + """\
hosts:
  ws:
    gpus:
      rtx-2070: {vendor: nvidia, vram_gb: 8, index: 0, compute_capability: "7.5"}
      quadro: {vendor: nvidia, vram_gb: 4, index: 1}
      arc: {vendor: intel, vram_gb: 8, index: 2}
workloads:
  comfyui: {target: compose, host: ws, gpu: {vendor: nvidia, min_compute_capability: "8.0"}}
"""
    assert found(infra_file, text, "FIT003") == [
        "infra.yml:11:86: error[FIT003] comfyui asks for an nvidia GPU with compute capability >= 8.0 but host "
        "'ws' has none (ws/quadro: no compute_capability, ws/rtx-2070: 7.5); lower gpu.min_compute_capability "
        "or add such a GPU"]


def test_fit003_count_above_one_and_none_match_points_at_the_vendor(infra_file):
    text = HEAD + NODES.replace("  elminster:", "  danilo:\n    platform: kubernetes\n    gpus:\n"
                                "      arc: {vendor: intel, vram_gb: 8}\n  elminster:") + \
        "workloads:\n  trainer: {target: kubernetes, host: khelben, gpu: {count: 2, vendor: nvidia}}\n"
    assert found(infra_file, text, "FIT003") == [
        "infra.yml:18:72: error[FIT003] trainer asks for 2 nvidia GPUs but host 'khelben' has none (only amd); "
        "change gpu.vendor or add an nvidia GPU"]


def test_fit003_host_without_gpus_points_at_the_host(infra_file):
    text = HEAD + """\
hosts:
  ws:
    gpus:
      rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
  nas: {platform: docker}
workloads:
  ai-llm: {target: compose, host: nas}
"""
    assert found(infra_file, text, "FIT003") == [
        "infra.yml:10:35: error[FIT003] ai-llm asks for a GPU but host 'nas' has no GPU; run it where there are "
        "GPUs or add them under hosts"]


def test_fit003_kubernetes_without_host_counts_every_node(infra_file):
    two = HEAD + NODES.replace("strix-halo: {vendor: amd, vram_gb: 64}",
                               "strix-halo: {vendor: nvidia, vram_gb: 64, compute_capability: \"8.0\"}")
    ok = two + "workloads:\n  trainer: {target: kubernetes, gpu: {count: 2, vendor: nvidia}}\n"
    assert found(infra_file, ok, "FIT003") == []
    three = two + "workloads:\n  trainer: {target: kubernetes, gpu: {count: 3, vendor: nvidia}}\n"
    assert found(infra_file, three, "FIT003") == [
        "infra.yml:14:46: error[FIT003] trainer asks for 3 nvidia GPUs but the kubernetes nodes (platform: "
        "kubernetes) have only 2: elminster/rtx-2070, khelben/strix-halo; lower gpu.count to 2"]


def test_fit003_kubernetes_without_any_kubernetes_host(infra_file):
    text = HEAD + PVE + "workloads:\n  whisper: {target: kubernetes, gpu: {vendor: nvidia}}\n"
    assert found(infra_file, text, "FIT003") == [
        "infra.yml:10:33: error[FIT003] whisper asks for an nvidia GPU but no host has platform: kubernetes; "
        "set it on the hosts whisper may run on"]


def test_fit003_incus_machine_uses_incus_hosts_and_hosts_without_platform(infra_file):
    text = HEAD.replace("domains: {}\n", "") + """\
domains:
  ai:
    machines:
      ai-train: {type: lxc, gpu: {count: 3}}
hosts:
  pve:
    platform: proxmox
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16}
  incus1:
    platform: incus
    gpus:
      rtx-3090: {vendor: nvidia, vram_gb: 24}
  lab:
    gpus:
      rtx-3060: {vendor: nvidia, vram_gb: 12}
"""
    assert found(infra_file, text, "FIT003") == [
        "infra.yml:6:42: error[FIT003] ai-train asks for 3 GPUs but the incus hosts (platform: incus, or "
        "none) have only 2: incus1/rtx-3090, lab/rtx-3060; lower gpu.count to 2"]


def test_fit003_counts_gpus_whatever_their_status(infra_file):
    text = HEAD + PVE.replace("index: 1,", "index: 1, status: unavailable,") + \
        "workloads:\n  dev-env: {target: compose, host: pve, gpu: {count: 2, vendor: nvidia}}\n"
    result = compiled(infra_file, text)
    assert [f.code for f in result.diag.findings if f.code == "FIT003"] == []
    # Placement still says it got only one: that is PLACE006's warning, not FIT003's error.
    assert [f.code for f in result.diag.findings if f.severity == "error"] == []
    assert "PLACE006" in {f.code for f in result.diag.findings}


def test_fit003_a_pin_counts_even_when_fit002_rejects_it(infra_file):
    text = HEAD + PVE + workload("plex: {target: compose, host: pve, "
                                 "gpu: {min_compute_capability: \"13.0\", pin: gtx-970}}")
    assert [f[f.index("error["):f.index("]") + 1] for f in found(infra_file, text, "FIT002", "FIT003")] == [
        "error[FIT002]"]


def test_fit003_skips_files_without_inventory(infra_file):
    text = """\
project_name: anklume
global: {gpu_policy: shared}
domains:
  ai:
    machines:
      gpu-server: {type: lxc, gpu: {count: 2, vendor: nvidia, min_compute_capability: "8.0"}}
"""
    result = compiled(infra_file, text)
    assert result.ok and result.placement is not None
    assert [f for f in result.diag.findings if f.code == "FIT003"] == []


def test_fit003_leaves_an_undefined_host_to_ref001(infra_file):
    text = HEAD + PVE + "workloads:\n  llm: {target: compose, host: pvee, gpu: {vendor: nvidia}}\n"
    assert [f.split(" ")[1] for f in found(infra_file, text, "FIT003", "REF001")] == ["error[REF001]"]


def test_fit003_incus_machine_without_any_incus_host(infra_file):
    text = HEAD.replace("domains: {}\n", "") + """\
domains:
  ai:
    machines:
      gpu-server: {type: lxc, gpu: true}
hosts:
  pve:
    platform: proxmox
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16}
"""
    assert found(infra_file, text, "FIT003") == [
        "infra.yml:6:36: error[FIT003] gpu-server asks for a GPU but no host has platform: incus; set it on the "
        "hosts gpu-server may run on"]


def test_fit003_count_all_asks_for_at_least_one(infra_file):
    text = HEAD + PVE + workload("ollama: {target: compose, host: pve, gpu: {count: all, vendor: amd}}")
    assert found(infra_file, text, "FIT003") == [
        "infra.yml:10:66: error[FIT003] ollama asks for every amd GPU (count: all) but host 'pve' has none "
        "(only nvidia); change gpu.vendor or add an amd GPU"]
    nvidia = HEAD + PVE + workload("ollama: {target: compose, host: pve, gpu: {count: all, vendor: nvidia}}")
    assert found(infra_file, nvidia, "FIT003") == []
