"""FIT002 (fit_compute.py): a consumer pinned to a GPU whose compute capability is below its
`min_compute_capability`.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers
from tests.rules.helpers import HOMELAB as HEAD
from tests.rules.helpers import NODES, PVE, found, workload

infra_file = helpers.infra_file


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
