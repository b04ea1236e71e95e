"""Listings of /sys/kernel/iommu_groups (find -type l, ls -l), written from the kernel's ABI documentation."""

from __future__ import annotations

from generator.detect import formats, iommu
from tests.detect.helpers import fixture


def test_find_type_l_one_path_per_device():
    parsed = iommu.parse(fixture("pve-iommu-groups.txt"), "iommu.txt")
    assert parsed.findings == [] and parsed.gpus == [] and parsed.covers == frozenset()
    assert parsed.iommu_groups == {
        "0000:05:00.0": 17, "0000:00:07.1": 7, "0000:00:07.0": 7, "0000:00:03.1": 5, "0000:01:00.1": 13,
        "0000:01:00.0": 13, "0000:00:02.0": 3, "0000:02:00.0": 14, "0000:02:00.1": 14, "0000:00:01.1": 2,
        "0000:00:01.0": 0}


def test_ls_l_of_every_devices_directory():
    parsed = iommu.parse(fixture("mixed-iommu-groups-ls.txt"), "ls.txt")
    assert parsed.findings == []
    # The link's own name, never the addresses of the path it points to (its bridge 0000:00:1c.4).
    assert parsed.iommu_groups == {"0000:00:00.0": 0, "0000:00:01.0": 1, "0000:01:00.0": 1, "0000:01:00.1": 1,
                                   "0000:00:02.0": 2, "0000:00:14.0": 9, "0000:00:14.2": 9, "0000:03:00.0": 15,
                                   "0000:03:00.1": 15}


def test_ls_without_l_and_find_without_type_l():
    plain = ("/sys/kernel/iommu_groups/13/devices:\n0000:01:00.0  0000:01:00.1\n\n"
             "/sys/kernel/iommu_groups/14/devices:\n0000:02:00.0\n")
    assert iommu.parse(plain, "x").iommu_groups == {"0000:01:00.0": 13, "0000:01:00.1": 13, "0000:02:00.0": 14}
    everything = ("/sys/kernel/iommu_groups/\n/sys/kernel/iommu_groups/13\n/sys/kernel/iommu_groups/13/type\n"
                  "/sys/kernel/iommu_groups/13/reserved_regions\n/sys/kernel/iommu_groups/13/devices\n"
                  "/sys/kernel/iommu_groups/13/devices/0000:01:00.0\n")
    parsed = iommu.parse(everything, "x")
    assert parsed.findings == [] and parsed.iommu_groups == {"0000:01:00.0": 13}


def test_recognised_by_its_paths():
    assert formats.recognise(fixture("pve-iommu-groups.txt")) == iommu.FORMAT
    assert formats.recognise(fixture("mixed-iommu-groups-ls.txt")) == iommu.FORMAT
    assert formats.recognise("/sys/kernel/iommu_groups/13\n") is None      # no device: nothing to read


def test_a_device_in_two_groups_keeps_the_first():
    text = "/sys/kernel/iommu_groups/13/devices/0000:01:00.0\n/sys/kernel/iommu_groups/15/devices/0000:01:00.0\n"
    parsed = iommu.parse(text, "iommu.txt")
    assert parsed.iommu_groups == {"0000:01:00.0": 13}
    problem, = parsed.findings
    assert (problem.code, problem.line) == ("DETECT003", 2)
    assert problem.message == ("line 2: 0000:01:00.0 is listed in IOMMU group 15 after group 13: a device is in one "
                               "group, so the listing joins two machines or boots; group 13 is kept")


def test_lines_of_something_else_and_domains_infra_yml_cannot_hold():
    text = ("/sys/kernel/iommu_groups/3/devices/10000:e1:00.0\n"       # Intel VMD: a domain beyond 16 bits
            "find: '/sys/kernel/iommu_groups/': No such file or directory\n"
            "/sys/kernel/iommu_groups/13/devices/0000:01:00.0\n")
    parsed = iommu.parse(text, "iommu.txt")
    assert parsed.iommu_groups == {"0000:01:00.0": 13}
    assert [(f.code, f.line) for f in parsed.findings] == [("DETECT003", 1), ("DETECT003", 2)]
    assert parsed.findings[0].message == ("line 1: 10000:e1:00.0 is not a PCI address psot can write; skipped")
