"""A listing of /sys/kernel/iommu_groups: the IOMMU group of every PCI device, for passthrough.

Written from the kernel's ABI documentation
(Documentation/ABI/testing/sysfs-kernel-iommu_groups): /sys/kernel/iommu_groups/
holds one directory per IOMMU group, named by the group's number, and in
it a directory `devices` with a link per device of the group, named by
its PCI address. A VM is given a whole group, so the group of a GPU says
what else goes with it. Two listings of it are read:

    find /sys/kernel/iommu_groups/ -type l
    /sys/kernel/iommu_groups/13/devices/0000:01:00.0

one path per link (find(1); without `-type l` the directories are listed
too, and skipped), and

    ls -l /sys/kernel/iommu_groups/*/devices
    /sys/kernel/iommu_groups/13/devices:
    total 0
    lrwxrwxrwx 1 root root 0 Jun 12 09:14 0000:01:00.0 -> ../../../../devices/pci0000:00/0000:00:01.1/0000:01:00.0

a header line per directory, then its entries (ls(1); with several
directories it names each before its entries; without `-l` the names
alone). An empty /sys/kernel/iommu_groups (IOMMU off) lists nothing: psot
reads that as no output. lspci -v and -vv print the group of each device
too (lspci.py).
"""

from __future__ import annotations

import re

from generator.detect import normalise as n
from generator.detect.records import Parsed

FORMAT = "iommu-groups"
COMMAND = ["find", "/sys/kernel/iommu_groups/", "-type", "l"]

_ROOT = r"/sys/kernel/iommu_groups/+"
_ADDRESS = r"[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]"
LINK = re.compile(rf"^\s*{_ROOT}(\d{{1,6}})/+devices/+({_ADDRESS})\s*$")
HEADER = re.compile(rf"^\s*{_ROOT}(\d{{1,6}})/+devices/*:\s*$")
_OTHER_PATH = re.compile(rf"^\s*{_ROOT}\S*\s*$")     # find without -type l: the directories and their files
_ENTRY_NAME = re.compile(rf"^{_ADDRESS}$")
_TOTAL = re.compile(r"^total \d+\s*$")            # ls -l's first line under each directory


def parse(text: str, source: str) -> Parsed:
    parsed = Parsed(FORMAT, source)
    group: int | None = None          # the directory an `ls` header named, for the entries below it
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        link, header = LINK.match(line), HEADER.match(line)
        if link:
            _add(parsed, link.group(2), int(link.group(1)), number)
        elif header:
            group = int(header.group(1))
        elif _OTHER_PATH.match(line) or _TOTAL.match(line):
            continue
        elif group is not None and (addresses := _entries(line)):
            for address in addresses:
                _add(parsed, address, group, number)
        else:
            parsed.problem(f"line {number} is not a line of `find /sys/kernel/iommu_groups/ -type l` or "
                           f"`ls -l /sys/kernel/iommu_groups/*/devices`: {_excerpt(line)}", number)
    return parsed


def _entries(line: str) -> list[str]:
    """The PCI addresses an `ls` line names: every word of `ls`, the link's name (before `->`) of `ls -l`."""
    names = line.split(" -> ", 1)[0].split()
    if " -> " in line:
        names = names[-1:]
    return [name for name in names if _ENTRY_NAME.match(name)]


def _add(parsed: Parsed, address: str, group: int, line: int) -> None:
    pci = n.pci_address(address)
    if pci is None:
        parsed.problem(f"line {line}: {address} is not a PCI address psot can write; skipped", line)
        return
    known = parsed.iommu_groups.setdefault(pci, group)
    if known != group:
        parsed.problem(f"line {line}: {pci} is listed in IOMMU group {group} after group {known}: a device is in "
                       f"one group, so the listing joins two machines or boots; group {known} is kept", line)


def _excerpt(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"
