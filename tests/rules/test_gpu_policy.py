"""GPU access policy (seed 004's table) and passthrough, beyond the docstring examples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from tests.conftest import EXAMPLES, run_psot


def findings(path: Path, *codes: str) -> list[str]:
    """Findings as printed, with the file named as in its own directory (`infra.yml:…`)."""
    result = compile_infra(path)
    return [f.format().replace(f"{path.parent}/", "") for f in result.diag.findings if not codes or f.code in codes]


ANKLUME = """
project_name: lab
global: {{gpu_policy: {policy}}}
domains:
  ai-tools:
    profiles:
      nvidia-compute:
        devices:
          gpu: {{type: gpu, gputype: physical}}
    machines:
{machines}
"""


def anklume(infra_file, policy: str, *machines: str) -> Path:
    body = "\n".join(f"      {m}" for m in machines) or "      {}"
    return infra_file(ANKLUME.format(policy=policy, machines=body))


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


def test_gpu_false_with_a_gpu_profile_still_has_access(infra_file):
    path = anklume(infra_file, "shared", "a: {type: lxc, gpu: true}",
                   "b: {type: lxc, gpu: false, profiles: [nvidia-compute]}")
    assert findings(path, "GPU002") == [
        "infra.yml:11:7: warning[GPU002] GPU policy is 'shared': 2 instances share GPU access (a, b). "
        "No VRAM isolation on consumer GPUs."]


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


def test_without_inventory_a_passthrough_vm_shares_nothing_under_shared(infra_file):
    path = anklume(infra_file, "shared", "vm: {type: vm, gpu: true}", "ct: {type: lxc, gpu: true}")
    assert findings(path) == []


INVENTORY = """
project_name: ws
global: {{gpu_policy: {policy}}}
domains: {{}}
hosts:
  ws:
    iommu: true
    gpus:
      rtx-a5500: {{vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:01:00.0"}}
      rtx-a400: {{vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0"}}
workloads:
{workloads}
"""


def inventory(infra_file, policy: str, *workloads: str) -> Path:
    return infra_file(INVENTORY.format(policy=policy, workloads="\n".join(f"  {w}" for w in workloads)))


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


def test_shared_with_inventory_warns_per_gpu(infra_file):
    path = inventory(infra_file, "shared",
                     "a: {target: compose, host: ws, gpu: {pin: rtx-a400, vram_gb: 1}}",
                     "b: {target: compose, host: ws, gpu: {pin: rtx-a400, vram_gb: 1}}")
    assert findings(path, "GPU002") == [
        "infra.yml:12:3: warning[GPU002] GPU policy is 'shared': 2 instances share GPU access on "
        "GPU 1 (ws/rtx-a400): a, b. No VRAM isolation on consumer GPUs."]


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
        "iommu: true; enable the IOMMU (intel_iommu=on or amd_iommu=on) and set hosts.box.iommu: true"]


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
        "infra.yml:35:7: error[GPU001] GPU policy is 'exclusive' but 2 instances have GPU access: "
        "gpu-server, work-gpu. Set global.gpu_policy: shared to allow this.")

    example.write_text(text.replace("  # gpu_policy: exclusive  # This is the default",
                                    "  gpu_policy: shared"))
    third = run_psot("validate", cwd=tmp_path)
    assert third.returncode == 0
    assert third.stdout.splitlines()[0] == (
        "infra.yml:35:7: warning[GPU002] GPU policy is 'shared': 2 instances share GPU access "
        "(gpu-server, work-gpu). No VRAM isolation on consumer GPUs.")


def test_a_machine_device_overriding_the_profile_gpu_device_removes_gpu_access(infra_file):
    """Incus expands profiles, then the machine's own devices: a same-named device replaces the GPU."""
    path = anklume(infra_file, "exclusive",
                   "a: {type: lxc, gpu: true}",
                   "b: {type: lxc, profiles: [default, nvidia-compute], devices: {gpu: {type: disk, path: /x, "
                   "source: /srv/x}}}")
    result = compile_infra(path)
    assert result.ok and set(result.infra.consumers) == {"a"}
