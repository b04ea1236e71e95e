"""GPU001 (gpu_exclusive.py): under `gpu_policy: exclusive`, two or more instances have access to the same GPU
(seed 004's table), beyond the docstring example."""

from __future__ import annotations

import shutil

import pytest

from generator.pipeline import compile_infra
from tests.conftest import EXAMPLES, run_psot
from tests.rules.helpers import anklume, inventory
from tests.rules.helpers import policy_findings as findings


@pytest.mark.parametrize("policy", ["exclusive", "shared"])
def test_zero_or_one_gpu_instance_is_fine(infra_file, policy):
    assert findings(anklume(infra_file, policy, "web: {type: lxc}")) == []
    assert findings(anklume(infra_file, policy, "web: {type: lxc}", "llm: {type: lxc, gpu: true}")) == []


def test_all_three_detections_are_counted(infra_file):
    path = anklume(infra_file, "exclusive",
                   "direct: {type: lxc, gpu: true}",
                   "indirect: {type: lxc, profiles: [default, nvidia-compute]}",
                   "own-device: {type: lxc, devices: {card: {type: gpu}}}")
    assert findings(path, "GPU001") == [
        "infra.yml:11:7: error[GPU001] GPU policy is 'exclusive' but 3 instances have GPU access: "
        "direct, indirect, own-device. Set global.gpu_policy: shared to allow this."]


def test_invalid_policy_is_an_error(infra_file):
    path = anklume(infra_file, "maybe", "a: {type: lxc, gpu: true}")
    assert findings(path) == ["infra.yml:2:22: error[SCHEMA001] 'maybe' is not a valid gpu_policy; "
                              "expected one of: exclusive, shared"]


def test_without_inventory_a_vm_counts_under_exclusive_as_anklume_counts(infra_file):
    path = anklume(infra_file, "exclusive", "vm: {type: vm, gpu: true}", "ct: {type: lxc, gpu: true}")
    # Instances are named by name, not in file order (the finding points at the second of them).
    assert findings(path, "GPU001") == [
        "infra.yml:10:7: error[GPU001] GPU policy is 'exclusive' but 2 instances have GPU access: ct, vm. "
        "Set global.gpu_policy: shared to allow this."]


def test_exclusive_with_enough_gpus_places_one_per_gpu(infra_file):
    path = inventory(infra_file, "exclusive", "llm: {target: compose, host: ws, gpu: {vram_gb: 20}}",
                     "clip: {target: compose, host: ws, gpu: {vram_gb: 1}}")
    assert findings(path, "GPU001", "GPU002") == []


def test_exclusive_with_more_consumers_than_gpus_names_the_gpu(infra_file):
    path = inventory(infra_file, "exclusive",
                     "llm: {target: compose, host: ws, gpu: {vram_gb: 20}}",
                     "clip: {target: compose, host: ws, gpu: {vram_gb: 1}}",
                     "yolo: {target: compose, host: ws, gpu: {vram_gb: 0.6}}")
    # llm -> A5500, clip -> A400 (the empty one), yolo shares the A5500 (most free VRAM).
    assert findings(path, "GPU001") == [
        "infra.yml:13:3: error[GPU001] GPU policy is 'exclusive' but 2 instances have GPU access on "
        "GPU 0 (ws/rtx-a5500): llm, yolo. Set global.gpu_policy: shared to allow this."]


def test_seed_004_flow_exclusive_then_second_machine_then_shared(tmp_path):
    """One GPU machine passes; a second fails with the exact message; `shared` turns it into the warning."""
    example = tmp_path / "infra.yml"
    shutil.copy(EXAMPLES / "anklume-gpu" / "exclusive" / "infra.yml", example)
    first = run_psot("validate", cwd=tmp_path)
    assert first.returncode == 0 and first.stdout == "0 errors, 0 warnings.\n"

    text = example.read_text() + ("      work-gpu:\n        type: lxc\n        gpu: true\n"
                                  "        profiles: [default, nvidia-compute]\n")
    example.write_text(text)
    second = run_psot("validate", cwd=tmp_path)
    assert second.returncode == 1
    assert second.stdout.splitlines()[0] == (
        "infra.yml:38:7: error[GPU001] GPU policy is 'exclusive' but 2 instances have GPU access: "
        "gpu-server, work-gpu. Set global.gpu_policy: shared to allow this.")

    example.write_text(text.replace("  # gpu_policy: exclusive  # This is the default",
                                    "  gpu_policy: shared"))
    third = run_psot("validate", cwd=tmp_path)
    assert third.returncode == 0
    assert third.stdout.splitlines()[0] == (
        "infra.yml:38:7: warning[GPU002] GPU policy is 'shared': 2 instances share GPU access "
        "(gpu-server, work-gpu). No VRAM isolation on consumer GPUs.")


def test_a_machine_device_overriding_the_profile_gpu_device_removes_gpu_access(infra_file):
    """Incus expands profiles, then the machine's own devices: a same-named device replaces the GPU."""
    path = anklume(infra_file, "exclusive",
                   "a: {type: lxc, gpu: true}",
                   "b: {type: lxc, profiles: [default, nvidia-compute], devices: {gpu: {type: disk, path: /x, "
                   "source: /srv/x}}}")
    result = compile_infra(path)
    assert result.ok and set(result.infra.consumers) == {"a"}
