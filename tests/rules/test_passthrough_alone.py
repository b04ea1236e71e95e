"""PASS001 (passthrough_alone.py): a GPU passed through to a VM serves nothing else, whatever `gpu_policy`
says; beyond the docstring example."""

from __future__ import annotations

from generator.pipeline import compile_infra
from tests.rules.helpers import inventory
from tests.rules.helpers import policy_findings as findings


def test_two_vms_on_one_gpu_is_a_passthrough_error_not_a_policy_one(infra_file):
    path = inventory(infra_file, "shared",
                     "win: {target: proxmox, host: ws, vmid: 100, gpu: {pin: rtx-a5500}}",
                     "linux: {target: proxmox, host: ws, vmid: 101, gpu: {pin: rtx-a5500}}")
    assert findings(path, "GPU001", "GPU002", "PASS001") == [
        "infra.yml:11:3: error[PASS001] GPU 0 (ws/rtx-a5500) is passed through to VM linux (vfio-pci), so it "
        "can serve nothing else under any gpu_policy: win must use another GPU"]


def test_placement_keeps_a_passthrough_vm_alone_when_it_can(infra_file):
    path = inventory(infra_file, "shared",
                     "llm: {target: compose, host: ws, gpu: {vram_gb: 2}}",
                     "gaming: {target: proxmox, host: ws, vmid: 100}")
    result = compile_infra(path)
    assert result.ok
    assert result.placement.assignments["gaming"].gpus == ("ws/rtx-a5500",)
    assert result.placement.assignments["llm"].gpus == ("ws/rtx-a400",)
