"""PASS005 (passthrough_group.py): a passed GPU takes its whole IOMMU group; beyond the docstring example."""

from __future__ import annotations

from tests.conftest import run_psot
from tests.rules.helpers import policy_findings as findings

BASE = """
project_name: lab
global: {{gpu_policy: exclusive}}
domains: {{}}
hosts:
  pve:
    platform: proxmox
    iommu: true
    gpus:
      rtx-5070-ti: {{vendor: nvidia, vram_gb: 16, index: 0, pci: "0000:01:00.0", pci_id: "10de:2c05",
                    iommu_group: 13, subsystem_id: "1043:8a15"}}
      gtx-970: {{vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0", pci_id: "10de:13c2",
                iommu_group: {group}, subsystem_id: "3842:2974"}}
{groups}workloads:
  gaming: {{target: proxmox, host: pve, vmid: 100, gpu: {{pin: rtx-5070-ti}}}}
{more}"""


def write(infra_file, group=14, groups="", more="  plex: {target: compose, host: pve, gpu: {pin: gtx-970}}\n"):
    return infra_file(BASE.format(group=group, groups=groups, more=more))


def test_a_gpu_that_stays_on_the_host_in_the_same_group_is_an_error_that_names_it(infra_file):
    path = write(infra_file, group=13)
    assert findings(path, "PASS005") == [
        "infra.yml:10:34: error[PASS005] gaming passes pve/rtx-5070-ti through to a VM, but its IOMMU group 13 also "
        "holds pve/gtx-970 (0000:02:00.0), which stays on the host: a VM takes the whole group; pass it to gaming too, "
        "move the card to a slot with a group of its own, or keep the card on the host (psot never turns on the ACS "
        "override)"]
    run = run_psot("validate", str(path))
    assert run.returncode == 1 and "error[PASS005]" in run.stdout and "pve/gtx-970 (0000:02:00.0)" in run.stdout


def test_groups_of_their_own_and_bridges_are_fine(infra_file):
    groups = ("    iommu_groups:\n"
              "      - {group: 13, devices: [{pci: \"0000:00:01.0\", class: \"0604\"}, {pci: \"0000:01:00.0\"},\n"
              "                              {pci: \"0000:01:00.1\", pci_id: \"10de:22e9\", class: \"0403\"}]}\n")
    # The audio function is not in `functions`, but the slot passes it with the card.
    assert findings(write(infra_file, groups=groups), "PASS005") == []


def test_a_nic_of_the_listing_is_named(infra_file):
    groups = ("    iommu_groups:\n"
              "      - {group: 14, devices: [{pci: \"0000:02:00.0\"}, {pci: \"0000:05:00.0\", pci_id: \"8086:15f3\", "
              "class: \"0200\"},\n"
              "                              {pci: \"0000:06:00.0\"}]}\n")
    more = "  media: {target: proxmox, host: pve, vmid: 101, gpu: {pin: gtx-970}}\n"
    assert findings(write(infra_file, groups=groups, more=more), "PASS005") == [
        "infra.yml:12:30: error[PASS005] media passes pve/gtx-970 through to a VM, but its IOMMU group 14 also holds "
        "0000:05:00.0 (pci_id 8086:15f3, class 0200), 0000:06:00.0, which stay on the host: a VM takes the whole "
        "group; pass them to media too, move the card to a slot with a group of its own, or keep the card on the "
        "host (psot never turns on the ACS override)"]


def test_two_gpus_of_one_group_passed_to_the_same_vm_are_fine(infra_file):
    more = ""
    text = BASE.format(group=13, groups="", more=more).replace(
        "gpu: {pin: rtx-5070-ti}", "gpu: {count: 2, vram_gb: 4}")
    assert findings(infra_file(text), "PASS005") == []
