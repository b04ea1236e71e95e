"""K8S005 (k8s_label_keys.py): a Kubernetes label or taint key's prefix is a DNS subdomain of at most 253
characters.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers

findings = helpers.findings


def test_a_taint_key_prefix_over_253_characters_is_refused_at_its_line(findings):
    prefix = ".".join(["a" * 63] * 4) + ".example.com"
    text = ("project_name: homelab\nglobal: {}\ndomains: {}\nhosts:\n  khelben:\n    platform: kubernetes\n"
            f"    taints:\n    - {{key: {prefix}/gpu, effect: NoSchedule}}\n")
    assert findings(text, "K8S005") == [
        "infra.yml:8:13: error[K8S005] host 'khelben' taint key 'aaaaaaaaaaaaaaaaaaaa…aaaa.example.com/gpu': its "
        "prefix has 267 characters, Kubernetes allows at most 253; shorten it"]


def test_a_prefix_of_253_characters_passes(findings):
    prefix = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(prefix) == 253
    text = ("project_name: homelab\nglobal: {}\ndomains: {}\nhosts:\n  khelben:\n    platform: kubernetes\n"
            f"    labels: {{{prefix}/tier: fast}}\n")
    assert findings(text, "K8S005") == []
