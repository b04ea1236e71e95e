"""K8S003 (k8s_objects.py): each Kubernetes workload is its own object (kind, namespace and name).

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules.helpers import validate_findings as findings


def test_kubernetes_objects_differ_by_kind_namespace_or_name(tmp_path):
    code, found = findings(tmp_path, """
        project_name: lab
        global: {gpu_policy: shared}
        domains: {}
        hosts:
          node1:
            platform: kubernetes
            gpus:
              g: {vendor: nvidia, vram_gb: 24, index: 0}
        workloads:
          a: {target: kubernetes, host: node1, name: chat, gpu: {vram_gb: 1}}
          b: {target: kubernetes, host: node1, name: chat, kind: StatefulSet, gpu: {vram_gb: 1}}
          c: {target: kubernetes, host: node1, name: chat, namespace: ai, gpu: {vram_gb: 1}}
          chat: {target: kubernetes, host: node1, gpu: {vram_gb: 1}}
        """)
    assert code == 1
    assert [f for f in found if "K8S003" in f] == [
        "13:3 K8S003 chat and a are both the Deployment default/chat: one object cannot take two patches; give one "
        "of them its own name, namespace or kind"]
