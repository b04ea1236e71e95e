"""DRV004 (driver_flavour_choice.py): the flavour a host states cannot drive one of its GPUs; beyond the
docstring example: the proprietary choice, a VM that still takes the card, and what stays quiet."""

from __future__ import annotations

from generator.pipeline import compile_infra
from tests.rules import helpers

infra_file = helpers.infra_file

HOST = """\
project_name: homelab
global: {gpu_policy: shared}
domains: {}
hosts:
  pve:
    platform: proxmox
    iommu: true
    cpu_vendor: intel
    nvidia: {kernel_modules: FLAVOUR}
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0, pci: "0000:01:00.0", architecture: blackwell}
      gtx-970: {vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0", pci_id: "10de:13c2", architecture: maxwell}
workloads:
  plex: {target: compose, host: pve, gpu: {vram_gb: 1}}
"""


def test_proprietary_cannot_drive_blackwell(infra_file):
    result = compile_infra(infra_file(HOST.replace("FLAVOUR", "proprietary")))
    assert [f.format() for f in result.diag.findings] == [
        "infra.yml:11:7: warning[DRV004] pve/rtx-5070-ti: host 'pve' runs the proprietary NVIDIA kernel modules "
        "(nvidia.kernel_modules), which cannot drive Blackwell (it needs the open ones); the GPU is treated as "
        "unavailable and its workloads fall back to pve/gtx-970. Pass it through to a VM, which runs its own "
        "driver, or take it out of the inventory"]
    assert result.placement.assignments["plex"].gpus == ("pve/gtx-970",)
    assert result.infra.gpus["pve/rtx-5070-ti"].status == "unavailable"


def test_a_vm_still_takes_the_card_the_host_flavour_cannot_drive(infra_file):
    text = HOST.replace("FLAVOUR", "open") + "  gaming: {target: proxmox, host: pve, vmid: 100, gpu: {vram_gb: 2}}\n"
    result = compile_infra(infra_file(text))
    assert result.ok, [f.format() for f in result.diag.findings]
    # The 970 is unavailable to Plex (on the open host driver) but not to the VM, which brings its own driver.
    assert {n: a.gpus for n, a in result.placement.assignments.items()} == {
        "gaming": ("pve/gtx-970",), "plex": ("pve/rtx-5070-ti",)}
    assert [f.code for f in result.diag.findings if f.code.startswith("DRV")] == []
    assert result.placement.gpus["pve/gtx-970"].status == "ok"


def test_a_card_declared_unavailable_or_on_vfio_pci_is_not_reported(infra_file):
    for change in ("architecture: maxwell, status: unavailable}", "architecture: maxwell, driver_in_use: vfio-pci}"):
        result = compile_infra(infra_file(HOST.replace("FLAVOUR", "open").replace("architecture: maxwell}", change)))
        assert [f.code for f in result.diag.findings if f.code == "DRV004"] == []


def test_cards_of_either_flavour_and_unknown_ones_are_not_reported(infra_file):
    text = HOST.replace("FLAVOUR", "proprietary").replace("architecture: blackwell}", 'compute_capability: "8.6"}') \
        .replace(", architecture: maxwell}", "}")
    assert [f.code for f in compile_infra(infra_file(text)).diag.findings if f.code == "DRV004"] == []
