"""Kubernetes rules: K8S001 (a taint no workload tolerates), K8S002 (a dedicated node shared).

The docstring examples are compiled by test_docstrings.py; these are the
variants they do not show, each with its exact finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import compile_infra

# Seed 002's heterogeneous Kubernetes homelab.
HEAD = """\
project_name: homelab
global: {gpu_policy: shared}
domains: {}
hosts:
  khelben:
    platform: kubernetes
    taints: [{key: dedicated, value: vllm, effect: NoSchedule}]
    gpus:
      strix-halo: {vendor: amd, vram_gb: 64}
  elminster:
    platform: kubernetes
    gpus:
      rtx-2070: {vendor: nvidia, vram_gb: 8, compute_capability: "7.5"}
"""


@pytest.fixture
def infra_file(infra_file, monkeypatch):
    """conftest's fixture, run from the file's directory so findings name `infra.yml` as users see it."""
    def write(text: str) -> Path:
        path = infra_file(text)
        monkeypatch.chdir(path.parent)
        return Path(path.name)
    return write


def found(infra_file, text: str, *codes: str) -> list[str]:
    result = compile_infra(infra_file(text), until="place")
    assert result.placement is not None, [f.format() for f in result.diag.findings]  # placement rules ran
    return [f.format() for f in result.diag.findings if f.code in codes]


# K8S001 ---------------------------------------------------------------------------------------------

def test_k8s001_a_workload_placed_on_the_node_by_its_gpu_tolerates_it(infra_file):
    text = HEAD + "workloads:\n  vllm: {target: kubernetes, gpu: {vendor: amd, vram_gb: 42}}\n"
    assert found(infra_file, text, "K8S001") == []


def test_k8s001_a_workload_without_gpu_on_the_node_tolerates_it(infra_file):
    text = HEAD + ("workloads:\n  whisper: {target: kubernetes, host: elminster, gpu: {vram_gb: 3}}\n"
                   "  vllm-router: {target: kubernetes, host: khelben, gpu: false}\n")
    assert found(infra_file, text, "K8S001") == []


def test_k8s001_one_warning_per_taint_in_kubectl_form(infra_file):
    text = HEAD.replace("taints: [{key: dedicated, value: vllm, effect: NoSchedule}]",
                        "taints: [{key: dedicated, value: vllm, effect: NoSchedule}, {key: gpu, effect: NoExecute}]")
    text += "workloads:\n  whisper: {target: kubernetes, host: elminster, gpu: {vram_gb: 3}}\n"
    assert found(infra_file, text, "K8S001") == [
        "infra.yml:7:14: warning[K8S001] taint dedicated=vllm:NoSchedule on node 'khelben' is tolerated by no "
        "workload: no Kubernetes workload runs there; remove the taint, or run the workload it is for there "
        "(host: khelben)",
        "infra.yml:7:65: warning[K8S001] taint gpu:NoExecute on node 'khelben' is tolerated by no workload: no "
        "Kubernetes workload runs there; remove the taint, or run the workload it is for there (host: khelben)",
    ]


def test_k8s001_a_compose_service_on_the_host_does_not_tolerate_it(infra_file):
    text = HEAD + "workloads:\n  open-webui: {target: compose, host: khelben, gpu: false}\n"
    assert [f.split(": ", 1)[0] for f in found(infra_file, text, "K8S001")] == ["infra.yml:7:14"]


def test_k8s001_taints_outside_kubernetes_hosts_are_not_judged(infra_file):
    text = HEAD.replace("platform: kubernetes\n    taints", "platform: docker\n    taints")
    text += "workloads:\n  whisper: {target: kubernetes, host: elminster, gpu: {vram_gb: 3}}\n"
    assert found(infra_file, text, "K8S001") == []


# K8S002 ---------------------------------------------------------------------------------------------

def test_k8s002_a_workload_placement_put_on_the_node_points_at_the_workload(infra_file):
    text = HEAD + """\
workloads:
  vllm: {target: kubernetes, host: khelben, dedicated_node: true, gpu: {vram_gb: 42}}
  bge-embeddings: {target: kubernetes, gpu: {vendor: amd, vram_gb: 2}}
"""
    assert found(infra_file, text, "K8S002") == [
        "infra.yml:16:3: error[K8S002] bge-embeddings runs on node 'khelben', which is dedicated to vllm "
        "(dedicated_node: true); placement gave it khelben/strix-halo: set its host to another node, or drop "
        "dedicated_node from vllm"]


def test_k8s002_a_pinned_workload_points_at_the_pin(infra_file):
    text = HEAD + """\
workloads:
  vllm: {target: kubernetes, dedicated_node: true, gpu: {pin: strix-halo, vram_gb: 42}}
  bge-embeddings: {target: kubernetes, gpu: {pin: khelben/strix-halo, vram_gb: 2}}
"""
    assert found(infra_file, text, "K8S002") == [
        "infra.yml:16:51: error[K8S002] bge-embeddings runs on node 'khelben', which is dedicated to vllm "
        "(dedicated_node: true); pin it to a GPU on another node, or drop dedicated_node from vllm"]


def test_k8s002_a_workload_without_gpu_on_the_node(infra_file):
    text = HEAD + """\
workloads:
  vllm: {target: kubernetes, host: khelben, dedicated_node: true, gpu: {vram_gb: 42}}
  vllm-router: {target: kubernetes, host: khelben, gpu: false}
"""
    assert found(infra_file, text, "K8S002") == [
        "infra.yml:16:43: error[K8S002] vllm-router runs on node 'khelben', which is dedicated to vllm "
        "(dedicated_node: true); set its host to another node, or drop dedicated_node from vllm"]


def test_k8s002_dedicated_by_placement_still_owns_the_node(infra_file):
    text = HEAD + """\
workloads:
  vllm: {target: kubernetes, dedicated_node: true, gpu: {vendor: amd, vram_gb: 42}}
  bge-reranker: {target: kubernetes, host: khelben, gpu: false}
"""
    assert found(infra_file, text, "K8S002") == [
        "infra.yml:16:44: error[K8S002] bge-reranker runs on node 'khelben', which is dedicated to vllm "
        "(dedicated_node: true); set its host to another node, or drop dedicated_node from vllm"]


def test_k8s002_two_workloads_claiming_one_node_are_both_reported(infra_file):
    text = HEAD + """\
workloads:
  vllm: {target: kubernetes, host: khelben, dedicated_node: true, gpu: {vram_gb: 42}}
  sglang: {target: kubernetes, host: khelben, dedicated_node: true, gpu: {vram_gb: 20}}
"""
    assert found(infra_file, text, "K8S002") == [
        "infra.yml:15:36: error[K8S002] vllm runs on node 'khelben', which is dedicated to sglang "
        "(dedicated_node: true); set its host to another node, or drop dedicated_node from sglang",
        "infra.yml:16:38: error[K8S002] sglang runs on node 'khelben', which is dedicated to vllm "
        "(dedicated_node: true); set its host to another node, or drop dedicated_node from vllm",
    ]


def test_k8s002_other_targets_and_other_nodes_do_not_count(infra_file):
    text = HEAD + """\
workloads:
  vllm: {target: kubernetes, host: khelben, dedicated_node: true, gpu: {vram_gb: 42}}
  whisper: {target: kubernetes, host: elminster, gpu: {vram_gb: 3}}
  xtts: {target: kubernetes, gpu: {vendor: nvidia, vram_gb: 2}}
  open-webui: {target: compose, host: khelben, gpu: false}
"""
    assert found(infra_file, text, "K8S002") == []
