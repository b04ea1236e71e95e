"""INV001 (inventory_pci.py): each GPU of a host is at a PCI address of its own: one device, never two names
for it.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules.helpers import validate_findings as findings


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
