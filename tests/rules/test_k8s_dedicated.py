"""K8S002 (k8s_dedicated.py): another Kubernetes workload runs on a node dedicated to a workload with
`dedicated_node: true`.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers
from tests.rules.helpers import KUBERNETES_HOMELAB as HEAD
from tests.rules.helpers import found_placed as found

infra_file = helpers.infra_file


def test_k8s002_a_workload_placement_put_on_the_node_points_at_the_workload(infra_file):
    """The dedicated workload has neither host nor pin: its node is placement's choice, known only after it
    (placement/eligibility.py keeps a node dedicated by `host` or pin out of the others' candidates)."""
    text = HEAD + """\
workloads:
  vllm: {target: kubernetes, dedicated_node: true, gpu: {vendor: amd, vram_gb: 42}}
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
