"""Request fit: FIT001 (vendor of a pin), FIT002 (compute capability of a pin), FIT003 (count satisfiable),
FIT004 (`count: all` on one host).

The docstring examples are compiled by test_docstrings.py; these are the
variants they do not show, each with its exact finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import compile_infra

HEAD = """\
project_name: homelab
global: {gpu_policy: shared}
domains: {}
"""

# Seed 000's Proxmox homelab and seed 002's Kubernetes nodes.
PVE = """\
hosts:
  pve:
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0, compute_capability: "12.0"}
      gtx-970: {vendor: nvidia, vram_gb: 4, index: 1, compute_capability: "5.2"}
"""

NODES = """\
hosts:
  khelben:
    platform: kubernetes
    gpus:
      strix-halo: {vendor: amd, vram_gb: 64}
  elminster:
    platform: kubernetes
    gpus:
      rtx-2070: {vendor: nvidia, vram_gb: 8, compute_capability: "7.5"}
"""


def workload(line: str) -> str:
    return f"workloads:\n  {line}\n"


@pytest.fixture
def infra_file(infra_file, monkeypatch):
    """conftest's fixture, run from the file's directory so findings name `infra.yml` as users see it."""
    def write(text: str) -> Path:
        path = infra_file(text)
        monkeypatch.chdir(path.parent)
        return Path(path.name)
    return write


def compiled(infra_file, text: str):
    result = compile_infra(infra_file(text), until="place")
    assert result.infra is not None, [f.format() for f in result.diag.findings]  # the rules ran
    return result


def found(infra_file, text: str, *codes: str) -> list[str]:
    result = compiled(infra_file, text)
    return [f.format() for f in result.diag.findings if f.code in codes]


# FIT001 ---------------------------------------------------------------------------------------------

def test_fit001_vendor_any_accepts_any_pin(infra_file):
    text = HEAD + NODES + "workloads:\n  whisper: {target: kubernetes, gpu: {vendor: any, pin: strix-halo}}\n"
    assert found(infra_file, text, "FIT001") == []


def test_fit001_pin_written_as_host_slash_gpu(infra_file):
    text = HEAD + NODES + "workloads:\n  vllm: {target: kubernetes, gpu: {vendor: amd, pin: elminster/rtx-2070}}\n"
    assert found(infra_file, text, "FIT001") == [
        "infra.yml:14:54: error[FIT001] vllm is pinned to elminster/rtx-2070, an nvidia GPU, but asks for "
        "vendor amd; pin an amd GPU or change gpu.vendor"]


def test_fit001_pin_from_an_incus_pci_device_points_at_vendor(infra_file):
    text = HEAD.replace("domains: {}\n", "") + """\
domains:
  ai:
    profiles:
      gpu-vm: {devices: {gpu: {type: gpu, pci: "0000:03:00.0"}}}
    machines:
      ai-gpu: {type: vm, profiles: [default, gpu-vm], gpu: {vendor: nvidia}}
hosts:
  pve:
    platform: incus
    iommu: true
    gpus:
      rx-7800-xt: {vendor: amd, vram_gb: 16, pci: "0000:03:00.0"}
"""
    assert found(infra_file, text, "FIT001") == [
        "infra.yml:8:69: error[FIT001] ai-gpu is pinned to pve/rx-7800-xt, an amd GPU, but asks for vendor "
        "nvidia; pin an nvidia GPU or change gpu.vendor"]


def test_fit001_is_an_error_that_stops_before_placement(infra_file):
    text = HEAD + NODES + "workloads:\n  whisper: {target: kubernetes, gpu: {vendor: nvidia, pin: strix-halo}}\n"
    result = compiled(infra_file, text)
    assert not result.ok and result.placement is None


# FIT002 ---------------------------------------------------------------------------------------------

def test_fit002_equal_capability_passes(infra_file):
    text = HEAD + PVE + workload("plex: {target: compose, host: pve, "
                                 "gpu: {min_compute_capability: \"5.2\", pin: gtx-970}}")
    assert found(infra_file, text, "FIT002") == []


def test_fit002_compares_as_versions_not_strings(infra_file):
    # As strings "12.0" < "9.0"; as versions 12.0 is above.
    text = HEAD + PVE + workload("llm: {target: compose, host: pve, "
                                 "gpu: {min_compute_capability: \"9.0\", pin: rtx-5070-ti}}")
    assert found(infra_file, text, "FIT002") == []
    text = HEAD + PVE + workload("llm: {target: compose, host: pve, "
                                 "gpu: {min_compute_capability: \"12.1\", pin: rtx-5070-ti}}")
    assert found(infra_file, text, "FIT002") == [
        "infra.yml:10:80: error[FIT002] llm is pinned to pve/rtx-5070-ti, compute capability 12.0, but asks for "
        "min_compute_capability 12.1; pin a GPU with 12.1 or newer, or lower gpu.min_compute_capability"]


def test_fit002_nvidia_gpu_without_capability_points_at_the_gpu(infra_file):
    text = HEAD + """\
hosts:
  ws:
    gpus:
      rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
workloads:
  ai-llm: {target: compose, host: ws, gpu: {min_compute_capability: "8.0", pin: rtx-a5500}}
"""
    assert found(infra_file, text, "FIT002") == [
        "infra.yml:7:7: error[FIT002] ai-llm is pinned to ws/rtx-a5500, which declares no compute_capability, "
        "so min_compute_capability 8.0 cannot be checked; add compute_capability to hosts.ws.gpus.rtx-a5500 "
        "(nvidia-smi --query-gpu=compute_cap --format=csv)"]


def test_fit002_amd_gpu_has_no_cuda_capability(infra_file):
    text = HEAD + NODES + workload("vllm: {target: kubernetes, "
                                   "gpu: {min_compute_capability: \"8.0\", pin: strix-halo}}")
    assert found(infra_file, text, "FIT002") == [
        "infra.yml:14:72: error[FIT002] vllm is pinned to khelben/strix-halo, an amd GPU without a CUDA compute "
        "capability, but asks for min_compute_capability 8.0; pin an nvidia GPU or remove "
        "gpu.min_compute_capability"]


def test_fit002_leaves_a_wrong_vendor_to_fit001(infra_file):
    text = HEAD + NODES + ("workloads:\n  whisper: {target: kubernetes, "
                           "gpu: {vendor: nvidia, min_compute_capability: \"7.0\", pin: strix-halo}}\n")
    assert found(infra_file, text, "FIT001", "FIT002", "FIT003") == [
        "infra.yml:14:91: error[FIT001] whisper is pinned to khelben/strix-halo, an amd GPU, but asks for "
        "vendor nvidia; pin an nvidia GPU or change gpu.vendor"]


# FIT003 ---------------------------------------------------------------------------------------------

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


# FIT004 ---------------------------------------------------------------------------------------------

def test_fit004_kubernetes_with_one_node_needs_no_host(infra_file):
    one = HEAD + NODES.split("  elminster:")[0] + workload("trainer: {target: kubernetes, gpu: {count: all}}")
    result = compiled(infra_file, one)
    assert [f.format() for f in result.diag.findings if f.severity == "error"] == []
    assert result.placement.assignments["trainer"].gpus == ("khelben/strix-halo",)


def test_fit004_incus_machine_on_several_incus_hosts(infra_file):
    text = HEAD.replace("domains: {}\n", "") + """\
domains:
  ai:
    machines:
      ai-train: {type: lxc, gpu: {count: all}}
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
    assert found(infra_file, text, "FIT004") == [
        "infra.yml:6:42: error[FIT004] ai-train asks for count: all, which needs one host, but it may run on "
        "incus1, lab; write a number for gpu.count"]
    one = text.replace("  lab:\n    gpus:\n      rtx-3060: {vendor: nvidia, vram_gb: 12}\n", "")
    result = compiled(infra_file, one)
    assert [f.format() for f in result.diag.findings if f.severity == "error"] == []
    assert result.placement.assignments["ai-train"].gpus == ("incus1/rtx-3090",)


def test_fit004_skips_files_without_inventory(infra_file):
    text = """\
project_name: anklume
global: {gpu_policy: shared}
domains:
  ai:
    machines:
      gpu-server: {type: lxc, gpu: {count: all}}
"""
    result = compiled(infra_file, text)
    assert result.ok and result.placement is not None
    assert [f for f in result.diag.findings if f.code == "FIT004"] == []
