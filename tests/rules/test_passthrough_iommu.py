"""PASS002 (passthrough_iommu.py): a host that passes a GPU through to a VM has `iommu: true`; beyond the
docstring example."""

from __future__ import annotations

from tests.rules.helpers import policy_findings as findings


def test_incus_vm_passthrough_needs_iommu_on_its_gpu_host(infra_file):
    path = infra_file("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              gpu-vm: {type: vm, gpu: true}
        hosts:
          box:
            platform: incus
            gpus:
              rtx: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0"}
    """)
    assert findings(path, "PASS002") == [
        "infra.yml:8:3: error[PASS002] gpu-vm passes box/rtx through to a VM but host 'box' does not have "
        "iommu: true; enable the IOMMU (VT-d or AMD-Vi in the firmware, intel_iommu=on before kernel 6.8) and set "
        "hosts.box.iommu: true"]


def test_a_container_is_not_passthrough(infra_file):
    path = infra_file("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              ct: {type: lxc, gpu: true}
        hosts:
          box:
            gpus:
              rtx: {vendor: nvidia, vram_gb: 16}
    """)
    assert findings(path) == []
