"""lspci's device list, `lspci -nn -D` (optionally with `-k`): every GPU on the bus, driver loaded or not.

Written from lspci(8) (pciutils): one line per device,

    0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GB203 [GeForce RTX 5070 Ti] [10de:2c05] (rev a1)

`-D` always prints the domain, `-nn` adds the class code after the class
name and `[vendor:device]` after the device name (pci.ids' name: a chip
code name with the product in brackets). `-k` adds indented lines below a
device, among them `Kernel driver in use: nvidia`. Without `-D` the
domain is 0000. GPUs are the display and accelerator classes — 0300 VGA,
0302 3D, 0380 other display, 1200 processing accelerator — of NVIDIA
(10de), AMD (1002) and Intel (8086); every other device is skipped.
lspci gives `pci` and `pci_id` but no VRAM, index or driver version.

Below each device, indented (lspci.c, show_terse and show_verbose; `-k`
or `-v`): `Subsystem: ASUSTeK Computer Inc. Device [1043:8a15]`, with
`-nn` the subsystem vendor:device in brackets, the board's maker and
model; `Kernel driver in use: vfio-pci`; with `-v` a `Flags:` line that
ends `..., IOMMU group 13`, with `-vv` a line `IOMMU group: 13` (pciutils
3.6 and later read both from /sys/bus/pci/devices/*/iommu_group); `-v`
separates devices with a blank line. The other functions of a GPU's card
(same domain, bus and device: `0000:01:00.1 Audio device [0403]`, its HDMI
audio) are its `functions`, which a VM is given with it.
"""

from __future__ import annotations

import re

from generator.detect import normalise as n
from generator.detect.records import ALL_VENDORS, Parsed, Seen
from generator.model.core import PciFunction

FORMAT = "lspci"
COMMAND = ["lspci", "-nn", "-D", "-k", "-v"]
GPU_CLASSES = {"0300", "0302", "0380", "1200"}

ADDRESS = re.compile(r"^(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]\s")
_DEVICE = re.compile(r"^(?P<addr>\S+) (?P<class_name>[^\[\]]*?) ?\[(?P<cls>[0-9a-fA-F]{4})\]: (?P<desc>.*?) "
                     r"\[(?P<vendor>[0-9a-fA-F]{4}):(?P<device>[0-9a-fA-F]{4})\]"
                     r"(?: \(rev [0-9a-fA-F]{2}\))?(?: \(prog-if [^)]*\))?\s*$")
_KERNEL_DRIVER = re.compile(r"^\s+Kernel driver in use:\s*(\S+)\s*$")
_SUBSYSTEM = re.compile(r"^\s+Subsystem:.*\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]\s*$")
_IOMMU_GROUP = re.compile(r"^\s+(?:IOMMU group:\s*|Flags:.*\bIOMMU group )(\d{1,6})\s*$")
# pci.ids' vendor names, as lspci prints them before the device name.
_VENDOR_PREFIX = {"nvidia": re.compile(r"^NVIDIA Corporation\s*"),
                  "amd": re.compile(r"^(?:Advanced Micro Devices,? Inc\.? \[AMD/ATI\]|ATI Technologies Inc\.?)\s*"),
                  "intel": re.compile(r"^Intel Corporation\s*")}


def parse(text: str, source: str) -> Parsed:
    parsed = Parsed(FORMAT, source, covers=ALL_VENDORS)
    current: Seen | None = None
    said_nn = False
    slots: dict[str, set[PciFunction]] = {}   # every device with its IDs by domain:bus:device, for the functions
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line[0] in " \t":
            if current is not None:
                parsed.gpus[-1] = current = _detail(current, line)
            continue
        current = None
        device = _DEVICE.match(line)
        if device is None:
            if ADDRESS.match(line) and not said_nn:
                said_nn = True
                parsed.problem(f"line {number} has no [class] and [vendor:device] codes: run lspci -nn -D", number)
            elif not ADDRESS.match(line):
                parsed.problem(f"line {number} is not an lspci device line: {_excerpt(line)}", number)
            continue
        pci = n.pci_address(device["addr"])
        pci_id = n.pci_id(device["vendor"], device["device"])
        if pci is not None:
            slots.setdefault(_slot(pci), set()).add(PciFunction(pci, pci_id, device["cls"].lower()))
        if device["cls"] not in GPU_CLASSES:
            continue
        vendor = n.vendor_of_id(device["vendor"].lower())
        if vendor is None:
            continue
        if pci is None:
            parsed.problem(f"{_excerpt(device['addr'])} is not a PCI address psot can write; GPU skipped", number)
            continue
        chip, model = _names(vendor, device["desc"])
        current = Seen(tool="lspci", vendor=vendor, pci=pci, pci_id=pci_id, model=model, chip=chip,
                       architecture=n.architecture(vendor, chip=chip, pci_id_=pci_id), source=source, line=number)
        parsed.gpus.append(current)
    parsed.gpus = [gpu.with_(functions=_functions(gpu, slots)) for gpu in parsed.gpus]
    return parsed


def _detail(gpu: Seen, line: str) -> Seen:
    """The GPU with what an indented line below it says: its kernel driver, subsystem or IOMMU group."""
    driver = _KERNEL_DRIVER.match(line)
    if driver:
        return gpu.with_(kernel_driver=n.kernel_module(driver.group(1)))
    subsystem = _SUBSYSTEM.match(line)
    if subsystem:
        return gpu.with_(subsystem_id=n.pci_id(subsystem.group(1), subsystem.group(2)))
    group = _IOMMU_GROUP.match(line)
    if group:
        return gpu.with_(iommu_group=int(group.group(1)))
    return gpu


def _slot(pci: str) -> str:
    """`0000:01:00.1` -> `0000:01:00`: the card's domain, bus and device, the same for each of its functions."""
    return pci.rsplit(".", 1)[0]


def _functions(gpu: Seen, slots: dict[str, set[PciFunction]]) -> tuple[PciFunction, ...] | None:
    """The other functions of the GPU's card, in address order; None when it has none."""
    found = sorted((d for d in slots.get(_slot(gpu.pci or ""), ()) if d.pci != gpu.pci), key=lambda d: (d.pci, str(d)))
    return tuple(found) or None


def _names(vendor: str, description: str) -> tuple[str | None, str | None]:
    """`NVIDIA Corporation GB203 [GeForce RTX 5070 Ti]` -> (`GB203`, `GeForce RTX 5070 Ti`).

    lspci names a device pci.ids does not know `Device` (`Device 2c05` without -nn): no names then.
    """
    rest = _VENDOR_PREFIX[vendor].sub("", description.strip())
    if not rest or re.fullmatch(r"Device(?: [0-9a-fA-F]{4})?", rest):
        return None, None
    match = re.fullmatch(r"(?P<chip>[^\[\]]*?)\s*\[(?P<model>[^\[\]]+)\]", rest)
    if match:
        return (match["chip"] or None), n.model_name(match["model"])
    return rest[:80], n.model_name(rest)


def _excerpt(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"
