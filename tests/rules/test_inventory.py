"""Inventory identity (INV001, INV002) and Kubernetes object identity (K8S003, K8S004): one device,
one object, one taint, never two names for it. The docstring examples are compiled by
test_docstrings.py; these are the variants they do not show, each with its exact findings."""

from __future__ import annotations

import json
import textwrap

from tests.conftest import run_psot


def findings(tmp_path, text: str) -> tuple[int, list[str]]:
    (tmp_path / "infra.yml").write_text(textwrap.dedent(text).lstrip("\n"))
    done = run_psot("validate", "--format", "json", cwd=tmp_path)
    body = json.loads(done.stdout)
    return done.returncode, [f"{f['line']}:{f['column']} {f['code']} {f['message']}" for f in body["findings"]]


def test_the_same_pci_address_in_another_case_names_both_gpus(tmp_path):
    code, found = findings(tmp_path, """
        project_name: lab
        global: {gpu_policy: shared}
        domains: {}
        hosts:
          pve:
            platform: proxmox
            iommu: true
            gpus:
              big: {vendor: nvidia, vram_gb: 24, pci: "0000:0A:00.0", pci_id: "10de:2204"}
              small: {vendor: nvidia, vram_gb: 8, pci: "0000:0a:00.0", pci_id: "10de:2204"}
        """)
    assert code == 1
    assert found == ["10:48 INV001 pve/small is at PCI address 0000:0a:00.0, as pve/big is (0000:0A:00.0): one "
                     "device cannot be two GPUs; remove one of them or correct its pci"]


def test_one_address_or_index_on_two_hosts_is_two_devices(tmp_path):
    code, found = findings(tmp_path, """
        project_name: lab
        global: {}
        domains: {}
        hosts:
          a:
            platform: docker
            gpus:
              g: {vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:01:00.0"}
          b:
            platform: docker
            gpus:
              g: {vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:01:00.0"}
        """)
    assert (code, found) == (0, [])


def test_every_repeated_index_is_named_once_against_the_first(tmp_path):
    code, found = findings(tmp_path, """
        project_name: lab
        global: {}
        domains: {}
        hosts:
          ws:
            platform: docker
            gpus:
              a: {vendor: nvidia, vram_gb: 24, index: 1}
              b: {vendor: nvidia, vram_gb: 24, index: 1}
              c: {vendor: nvidia, vram_gb: 24, index: 1}
              d: {vendor: intel, vram_gb: 8, index: 1}
        """)
    assert code == 1
    assert found == [
        "9:47 INV002 ws/b has nvidia index 1, as ws/a has: the driver numbers each card once; give each GPU the "
        "index its driver shows",
        "10:47 INV002 ws/c has nvidia index 1, as ws/a has: the driver numbers each card once; give each GPU the "
        "index its driver shows"]


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
