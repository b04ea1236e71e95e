"""gpu.cuda: DRV007 (cuda_driver.py), DRV008 (cuda_compute.py), DRV009 (cuda_release.py) and the eligibility
placement follows; the acceptance cases end to end (12.8 on a 560 driver names 570.26, 13.0 on a Maxwell GPU
names compute capability), beyond the docstring examples."""

from __future__ import annotations

import json

from generator.pipeline import compile_infra
from tests.conftest import run_psot
from tests.rules import helpers

infra_file = helpers.infra_file

HOST = """\
project_name: ai-lab
global: {gpu_policy: shared}
domains: {}
hosts:
  ws:
    platform: proxmox
    iommu: true
    cpu_vendor: amd
    gpus:
      rtx-4090: {vendor: nvidia, model: GeForce RTX 4090, vram_gb: 24, index: 0, architecture: ada, driver: "560.35.03"}
      gtx-970: {vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0", compute_capability: "5.2",
                driver: "560.35.03"}
      rx-7900: {vendor: amd, vram_gb: 24, index: 2}
workloads:
"""


def place(infra_file, workloads: str) -> tuple[dict, list[str]]:
    infra_file(HOST + workloads)
    result = run_psot("place", "infra.yml", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout), run_psot("place", "infra.yml").stderr.splitlines()


def test_cuda_12_8_on_a_560_driver_names_570_26(infra_file):
    placed, said = place(infra_file, '  vllm: {target: compose, host: ws, gpu: {vram_gb: 2, cuda: "12.8"}}\n')
    # The 4090 and the 970 run 560.35.03; the Radeon runs no CUDA at all.
    assert placed["assignments"]["vllm"]["gpus"] == []
    assert said == [
        "infra.yml:15:3: warning[PLACE002] vllm gets no GPU: no available nvidia CUDA 12.8 GPU on host 'ws'",
        "infra.yml:15:61: warning[DRV007] vllm: CUDA 12.8 needs NVIDIA driver 570.26 or newer, and ws/gtx-970 runs "
        "560.35.03, ws/rtx-4090 (GeForce RTX 4090) runs 560.35.03: they are not eligible for vllm. Upgrade the "
        "host's driver to 570.26 or newer, or use an image built for CUDA 12.6, the newest release driver 560.35.03 "
        "runs",
    ]


def test_cuda_13_on_a_maxwell_gpu_names_compute_capability(infra_file):
    placed, said = place(infra_file, '  plex: {target: compose, host: ws, gpu: {vram_gb: 1, cuda: "13.0", '
                                     'pin: gtx-970}}\n')
    # The 4090 fails the driver, not the compute capability: DRV007 says so, separately.
    assert said[0].startswith("infra.yml:15:61: warning[DRV007] plex: CUDA 13.0 needs NVIDIA driver 580.65.06 or "
                              "newer, and ws/rtx-4090 (GeForce RTX 4090) runs 560.35.03: it is not eligible")
    assert said[1:] == [
        "infra.yml:15:61: warning[DRV008] plex: CUDA 13.0 supports compute capability 7.5 and newer, and ws/gtx-970 "
        "has compute capability 5.2: it is not eligible for plex. Its pin to ws/gtx-970 still wins, but the image "
        "will not run there. Either use an image built for CUDA 12.9, the last release for compute capability 5.2, "
        "or give plex a GPU of compute capability 7.5 or newer"]
    assert placed["assignments"]["plex"]["gpus"] == ["ws/gtx-970"]


def test_a_gpu_that_meets_both_is_chosen_and_others_fall_away(infra_file):
    text = HOST.replace('architecture: ada, driver: "560.35.03"', 'architecture: ada, driver: "575.64.03"')
    result = compile_infra(infra_file(text + '  vllm: {target: compose, host: ws, gpu: {vram_gb: 2, cuda: "12.8"}}\n'))
    assert result.placement.assignments["vllm"].gpus == ("ws/rtx-4090",)
    assert result.placement.assignments["vllm"].fallback == ()
    assert [f.code for f in result.diag.findings] == ["DRV006", "DRV007"]


def test_a_vm_runs_its_own_driver_so_only_the_compute_capability_counts(infra_file):
    result = compile_infra(infra_file(HOST + '  retro: {target: proxmox, host: ws, vmid: 100, gpu: {cuda: "12.8", '
                                              'pin: gtx-970}}\n'))
    assert result.ok, [f.format() for f in result.diag.findings]
    assert result.placement.assignments["retro"].gpus == ("ws/gtx-970",)
    assert [f.code for f in result.diag.findings if f.code in ("DRV007", "DRV008")] == []


def test_the_architecture_gives_the_compute_capability_when_none_is_written(infra_file):
    text = HOST.replace('compute_capability: "5.2"', "architecture: maxwell")
    result = compile_infra(infra_file(text + '  plex: {target: compose, host: ws, gpu: {vram_gb: 1, cuda: "13.0"}}\n'))
    assert [f.message for f in result.diag.findings if f.code == "DRV008"] == [
        "plex: CUDA 13.0 supports compute capability 7.5 and newer, and ws/gtx-970 has Maxwell, compute capability "
        "5.3 at most: it is not eligible for plex. Either use an image built for CUDA 12.9, the last release for "
        "compute capability 5.3, or give plex a GPU of compute capability 7.5 or newer"]


def test_gpus_without_a_driver_or_a_compute_capability_are_not_judged(infra_file):
    text = HOST.replace(',\n                driver: "560.35.03"', "").replace(', driver: "560.35.03"', "") \
        .replace(', compute_capability: "5.2"', "")
    result = compile_infra(infra_file(text + '  vllm: {target: compose, host: ws, gpu: {vram_gb: 2, cuda: "13.0"}}\n'))
    assert [f.code for f in result.diag.findings] == []
    assert result.placement.assignments["vllm"].fallback == ("ws/gtx-970",)


def test_an_unknown_release_still_runs_on_nvidia_only(infra_file):
    result = compile_infra(infra_file(HOST + '  vllm: {target: compose, host: ws, gpu: {vram_gb: 2, cuda: "12.7"}}\n'))
    assert [f.code for f in result.diag.findings] == ["DRV009"]
    assert result.placement.assignments["vllm"].gpus == ("ws/rtx-4090",)
    assert "ws/rx-7900" not in result.placement.assignments["vllm"].fallback


def test_cuda_must_be_major_dot_minor(infra_file):
    result = compile_infra(infra_file(HOST + '  vllm: {target: compose, host: ws, gpu: {cuda: "12"}}\n'))
    assert [f.format() for f in result.diag.findings] == [
        "infra.yml:15:49: error[SCHEMA001] '12' is not a valid cuda: write a version like \"8.6\" (quoted)"]
