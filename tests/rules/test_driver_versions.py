"""DRV006 (driver_versions.py): the NVIDIA GPUs of one host report different drivers; beyond the docstring
example: three GPUs, passthrough cards and other vendors left out."""

from __future__ import annotations

from tests.rules import helpers

findings = helpers.findings

HOST = """\
project_name: homelab
global: {}
domains: {}
hosts:
  ws:
    gpus:
      a: {vendor: nvidia, vram_gb: 24, architecture: ampere, driver: "575.64.03"}
      b: {vendor: nvidia, vram_gb: 24, architecture: ampere, driver: "575.64.03"}
      c: {vendor: nvidia, vram_gb: 24, architecture: ampere, driver: "570.86.16"}
      d: {vendor: amd, vram_gb: 24, driver: "6.3.6"}
"""


def test_the_versions_are_listed_with_their_gpus(findings):
    assert findings(HOST, "DRV006") == [
        "infra.yml:9:70: warning[DRV006] host 'ws' runs one NVIDIA driver, but its GPUs report 2 versions: "
        "575.64.03 (a, b), 570.86.16 (c); the inventory is stale. Run psot detect on the host, or set every GPU's "
        "driver to the version nvidia-smi prints there"]


def test_a_card_on_vfio_pci_runs_its_vms_driver(findings):
    assert findings(HOST.replace('driver: "570.86.16"}', 'driver: "570.86.16", driver_in_use: vfio-pci}'),
                    "DRV006") == []


def test_gpus_without_a_driver_are_not_compared(findings):
    assert findings(HOST.replace(', driver: "570.86.16"}', "}"), "DRV006") == []
