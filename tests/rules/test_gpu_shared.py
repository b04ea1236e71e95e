"""GPU002 (gpu_shared.py): under `gpu_policy: shared`, instances that share a GPU are allowed, with a warning;
beyond the docstring example."""

from __future__ import annotations

from tests.rules.helpers import anklume, inventory
from tests.rules.helpers import policy_findings as findings


def test_gpu_false_with_a_gpu_profile_still_has_access(infra_file):
    path = anklume(infra_file, "shared", "a: {type: lxc, gpu: true}",
                   "b: {type: lxc, gpu: false, profiles: [nvidia-compute]}")
    assert findings(path, "GPU002") == [
        "infra.yml:11:7: warning[GPU002] GPU policy is 'shared': 2 instances share GPU access (a, b). "
        "No VRAM isolation on consumer GPUs."]


def test_without_inventory_a_passthrough_vm_shares_nothing_under_shared(infra_file):
    path = anklume(infra_file, "shared", "vm: {type: vm, gpu: true}", "ct: {type: lxc, gpu: true}")
    assert findings(path) == []


def test_shared_with_inventory_warns_per_gpu(infra_file):
    path = inventory(infra_file, "shared",
                     "a: {target: compose, host: ws, gpu: {pin: rtx-a400, vram_gb: 1}}",
                     "b: {target: compose, host: ws, gpu: {pin: rtx-a400, vram_gb: 1}}")
    assert findings(path, "GPU002") == [
        "infra.yml:12:3: warning[GPU002] GPU policy is 'shared': 2 instances share GPU access on "
        "GPU 1 (ws/rtx-a400): a, b. No VRAM isolation on consumer GPUs."]
