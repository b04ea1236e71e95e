"""PVE005 (proxmox_mapping_props.py): the mapping a VM uses carries iommugroup and subsystem-id."""

from __future__ import annotations

from tests.rules.helpers import policy_findings as findings

BASE = """
project_name: lab
global: {global_}
domains: {{}}
hosts:
  pve:
    platform: proxmox
    iommu: true
    gpus:
      rtx: {{vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2c05"{extra}}}
{groups}workloads:
  gaming: {{target: proxmox, host: pve, vmid: 100}}
"""


def test_one_missing_property_is_named(infra_file):
    path = infra_file(BASE.format(global_="{}", extra=", iommu_group: 13", groups=""))
    assert findings(path, "PVE005") == [
        "infra.yml:9:7: warning[PVE005] the PCI mapping of pve/rtx has no subsystem-id (subsystem_id): Proxmox "
        "refuses to start gaming through mapping= until the mapping has what the device has ('missing expected "
        "property'); run `psot detect` on pve or set hosts.pve.gpus.rtx.subsystem_id"]


def test_the_group_may_come_from_the_hosts_listing(infra_file):
    groups = '    iommu_groups: [{group: 13, devices: [{pci: "0000:01:00.0"}]}]\n'
    path = infra_file(BASE.format(global_="{}", extra=', subsystem_id: "1043:8a15"', groups=groups))
    assert findings(path, "PVE005") == []


def test_raw_addresses_use_no_mapping(infra_file):
    path = infra_file(BASE.format(global_="{proxmox: {hostpci: address}}", extra="", groups=""))
    assert findings(path, "PVE005") == []
