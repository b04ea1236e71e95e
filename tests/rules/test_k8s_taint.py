"""K8S001 (k8s_taint.py): a taint on a Kubernetes node that no workload tolerates.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers
from tests.rules.helpers import KUBERNETES_HOMELAB as HEAD
from tests.rules.helpers import found_placed as found

infra_file = helpers.infra_file


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
