"""The host's driver rules never take a passthrough GPU away from its VM (issue 15).

A GPU passed through to a VM is bound to vfio-pci and runs the guest's driver: a host driver too old for it
makes it unavailable to the host's containers, not to the VM. Here examples/dual-gpu-proxmox, synced, then
its host's driver found too old for the RTX 5070 Ti: the VM keeps its `hostpci0` and the plan deletes nothing.
"""

from __future__ import annotations

import shutil

from generator.pipeline import compile_infra
from tests.conftest import EXAMPLES, run_psot


def test_a_passthrough_gpu_on_a_host_with_a_too_old_driver_keeps_its_vm(tmp_path):
    shutil.copy(EXAMPLES / "dual-gpu-proxmox" / "infra.yml", tmp_path / "infra.yml")
    assert run_psot("sync", cwd=tmp_path).returncode == 0
    path = tmp_path / "infra.yml"
    path.write_text(path.read_text().replace('driver: "575.64.03"', 'driver: "550.144.03"'))

    plan = run_psot("plan", cwd=tmp_path)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert plan.stdout.startswith("No changes. generated/ is up to date.\n")
    result = compile_infra(path)
    assert result.placement.assignments["gaming"].gpus == ("pve/rtx-5070-ti",)
    conf = result.need_tree()["proxmox/pve/qemu-server/100.conf"].decode()
    assert "hostpci0: mapping=pve-rtx-5070-ti,pcie=1,x-vga=1\n" in conf
    # To the host's containers the card is unavailable (DRV001 warns before placement); the VM still has it.
    assert result.infra.gpus["pve/rtx-5070-ti"].status == "unavailable"
    assert result.placement.gpus["pve/rtx-5070-ti"].status == "ok"
    # The warning says so: the unpinned VM is not among what falls back.
    drv001 = [f.message for f in result.diag.findings if f.code == "DRV001"]
    assert len(drv001) == 1 and drv001[0].endswith(
        "(a VM it is passed through to keeps it: gaming may get it through vfio-pci, with the guest's own driver; "
        "pin the VM to it to say so). Install driver 575 or newer."), drv001


def test_the_driver_never_decides_a_pinned_vms_gpu(infra_file):
    path = infra_file("""\
        project_name: lab
        global: {}
        domains: {}
        hosts:
          pve:
            platform: proxmox
            iommu: true
            cpu_vendor: amd
            gpus:
              rtx-5070-ti:
                vendor: nvidia
                vram_gb: 16
                pci: "0000:01:00.0"
                pci_id: "10de:2c05"
                iommu_group: 13             # and subsystem_id: what its PCI mapping needs (PVE005)
                subsystem_id: "1043:8a15"
                architecture: blackwell
                driver: "550.144.03"
        workloads:
          gaming: {target: proxmox, host: pve, vmid: 100, gpu: {pin: rtx-5070-ti}}
        """)
    result = compile_infra(path)
    assert result.ok
    # Pinned by a passthrough consumer, the GPU is the VM's before placement: DRV001 does not judge it.
    assert [f.code for f in result.diag.findings] == []
    assert result.placement.assignments["gaming"].gpus == ("pve/rtx-5070-ti",)
