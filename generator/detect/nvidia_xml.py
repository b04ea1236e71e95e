"""nvidia-smi's XML report, `nvidia-smi -q -x`: the fallback for drivers whose CSV query lacks `compute_cap`.

Written from the DTD nvidia-smi names in its DOCTYPE (`nvsmi_device_v12.dtd`,
installed with the driver) and nvidia-smi(1): the root `nvidia_smi_log`
holds `driver_version` and one `gpu` element per GPU, whose `id` attribute
is its PCI bus ID; inside, `product_name`, `product_architecture` (newer
drivers: `Ampere`, `Ada Lovelace`, `Blackwell`), `uuid`,
`pci/pci_bus_id` (`00000000:3B:00.0`), `pci/pci_device_id` (device ID in the
high 16 bits, vendor in the low: `223310DE`; `pci/pci_sub_system_id` the
same for the subsystem, `8A151043` for ASUS's 1043:8a15), `fb_memory_usage/total`
(`24564 MiB`) and the power limit (`gpu_power_readings/current_power_limit`
in v12, `power_readings/power_limit` before; `300.00 W`). GPUs are listed in
nvidia-smi's index order. The report has no compute capability: the
architecture comes from `product_architecture` or the PCI device ID.

Output cut short (a killed run, a truncated file) keeps the GPUs that were
complete before the cut, with a finding.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any, cast

from generator.detect import normalise as n
from generator.detect.records import Parsed, Seen

FORMAT = "nvidia-smi-xml"
COMMAND = ["nvidia-smi", "-q", "-x"]

_START = re.compile(r"^\s*<(\?xml|!DOCTYPE\s+nvidia_smi_log|nvidia_smi_log)", re.MULTILINE)


def _events(reader: ET.XMLPullParser[Any]) -> Iterator[tuple[str, ET.Element]]:
    """The events read so far: only "start" and "end" are asked for, and their item is an Element
    (the stubs type the item as that of any event kind)."""
    return cast(Iterator[tuple[str, ET.Element]], reader.read_events())


def parse(text: str, source: str) -> Parsed:
    parsed = Parsed(FORMAT, source, covers=frozenset({"nvidia"}))
    start = _START.search(text)
    if start is None:
        parsed.error("DETECT001", "not nvidia-smi XML: no <nvidia_smi_log> document; run nvidia-smi -q -x")
        return parsed
    first_line = text.count("\n", 0, start.start()) + 1
    body = text[start.start():]
    if "<!ENTITY" in body:
        # nvidia-smi never declares entities; refusing them keeps entity expansion out entirely.
        parsed.error("DETECT001", "XML declares entities, which nvidia-smi never does; not read", first_line)
        return parsed
    gpus: list[ET.Element] = []
    driver: str | None = None
    root_tag: str | None = None
    reader: ET.XMLPullParser[Any] = ET.XMLPullParser(events=("start", "end"))
    try:
        for chunk in body.splitlines(keepends=True):
            reader.feed(chunk)
            for event, element in _events(reader):
                if event == "start" and root_tag is None:
                    root_tag = element.tag
                elif event == "end" and element.tag == "gpu":
                    gpus.append(element)
                elif event == "end" and element.tag == "driver_version" and driver is None:
                    driver = element.text
        reader.close()
        for event, element in _events(reader):
            if event == "end" and element.tag == "gpu":
                gpus.append(element)
    except ET.ParseError as exc:
        line, column = exc.position if hasattr(exc, "position") else (1, 0)
        kept = f"; the {len(gpus)} complete GPU element(s) before it are kept" if gpus else ""
        parsed.error("DETECT001", f"nvidia-smi XML breaks off or is malformed here ({_reason(exc)}): output "
                     f"truncated?{kept}", first_line + line - 1, column + 1)
    if root_tag is not None and root_tag != "nvidia_smi_log":
        parsed.error("DETECT001",
                     f"XML root is <{_short(root_tag)}>, not <nvidia_smi_log>: not nvidia-smi -q -x output",
                     first_line)
        return parsed
    driver_version = n.driver_version(driver)
    for index, element in enumerate(gpus):
        gpu = _gpu(element, index, driver_version, parsed, source, first_line)
        if gpu is not None:
            parsed.gpus.append(gpu)
    return parsed


def _gpu(element: ET.Element, index: int, driver: str | None, parsed: Parsed, source: str,
         first_line: int) -> Seen | None:
    bus_id = _text(element, "pci/pci_bus_id") or element.get("id")
    pci = n.pci_address(bus_id)
    if pci is None:
        parsed.problem(f"GPU {index}: PCI bus ID {_short(bus_id or '')!r} is not a PCI address; GPU skipped",
                       first_line)
        return None
    pci_id = n.id_pair_high_low(_text(element, "pci/pci_device_id"))
    vendor = n.vendor_of_id(pci_id[:4]) if pci_id else "nvidia"
    limit = (_text(element, "gpu_power_readings/current_power_limit")
             or _text(element, "gpu_power_readings/power_limit")
             or _text(element, "power_readings/power_limit"))
    power = n.to_number(limit)
    arch = n.nvidia_architecture(_text(element, "product_architecture")) or n.architecture("nvidia", pci_id_=pci_id)
    return Seen(
        tool="nvidia-smi", vendor=vendor or "nvidia", pci=pci, pci_id=pci_id,
        model=n.model_name(_text(element, "product_name")),
        vram_gb=n.vram_gb(n.to_number(_text(element, "fb_memory_usage/total"))), index=index,
        architecture=arch, driver=driver,
        tdp_watts=round(power) if power is not None and 0 < power < 100_000 else None,
        uuid=n.nvidia_uuid(_text(element, "uuid")),
        subsystem_id=n.id_pair_high_low(_text(element, "pci/pci_sub_system_id")), source=source, line=first_line)


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else None


def _reason(exc: ET.ParseError) -> str:
    return str(exc).split(":")[0][:80]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
