"""FIT004 (fit_count_all.py): a request with `count: all` is for one host.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers
from tests.rules.helpers import HOMELAB as HEAD
from tests.rules.helpers import NODES, compiled, found, workload

infra_file = helpers.infra_file


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
