"""FIT001 (fit_vendor.py): a consumer pinned to a GPU of another vendor than its request's `vendor`.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers
from tests.rules.helpers import HOMELAB as HEAD
from tests.rules.helpers import NODES, compiled, found

infra_file = helpers.infra_file


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
