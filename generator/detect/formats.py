"""Which tool printed a text, told by its content (a saved file's name says nothing), and reading it.

- nvidia-smi -q -x: an XML document whose root is `nvidia_smi_log`;
- rocm-smi --json: a JSON object with `cardN` keys;
- amd-smi static --json: a JSON list of GPU objects (`asic`, `bus`, ...), or `{"gpu_data": [...]}`;
- lspci -nn -D: lines starting with a PCI address followed by a class name;
- nvidia-smi --query-gpu CSV: comma-separated lines, one field a PCI bus ID;
- a listing of /sys/kernel/iommu_groups: paths /sys/kernel/iommu_groups/N/devices/ADDRESS
  (find), or headers /sys/kernel/iommu_groups/N/devices: (ls);
- /proc/driver/nvidia/version: a line `NVRM version: NVIDIA UNIX ... Kernel Module`;
- modinfo nvidia: `name: nvidia` or `filename: .../nvidia.ko` among `field: value` lines.

Warning lines before a JSON or XML document are allowed (the tools print them).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from generator.detect import amd_smi, iommu, json_output, lspci, nvidia_csv, nvidia_modules, nvidia_xml, rocm_smi
from generator.detect.records import Parsed

PARSERS: dict[str, Callable[[str, str], Parsed]] = {
    nvidia_csv.FORMAT: nvidia_csv.parse,
    nvidia_xml.FORMAT: nvidia_xml.parse,
    rocm_smi.FORMAT: rocm_smi.parse,
    amd_smi.FORMAT: amd_smi.parse,
    lspci.FORMAT: lspci.parse,
    iommu.FORMAT: iommu.parse,
    nvidia_modules.VERSION_FORMAT: nvidia_modules.parse_version,
    nvidia_modules.MODINFO_FORMAT: nvidia_modules.parse_modinfo,
}

# The commands whose saved output psot reads, as the message about an unreadable file lists them.
COMMANDS = (nvidia_csv.COMMAND, nvidia_xml.COMMAND, rocm_smi.COMMAND, amd_smi.COMMAND, amd_smi.METRIC_COMMAND,
            lspci.COMMAND, iommu.COMMAND, nvidia_modules.VERSION_COMMAND, nvidia_modules.MODINFO_COMMAND)

_XML = re.compile(r"^\s*<(\?xml|!DOCTYPE\s+nvidia_smi_log|nvidia_smi_log\b)", re.MULTILINE)
_CARD_KEY = re.compile(r'"card\d+"\s*:', re.IGNORECASE)
_AMD_SMI_KEY = re.compile(r'"(gpu_data|asic|target_graphics_version|market_name|mem_usage)"\s*:')
_BUS_ID = re.compile(r"(?:^|,)\s*(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]\s*(?:,|$)")


def recognise(text: str) -> str | None:
    """The format of `text` (a key of PARSERS), or None when it is none psot reads."""
    if not text.strip() or "\x00" in text:
        return None
    if _XML.search(text):
        return nvidia_xml.FORMAT
    if nvidia_modules.NVRM.search(text):
        return nvidia_modules.VERSION_FORMAT
    if nvidia_modules.MODINFO_NAME.search(text):
        return nvidia_modules.MODINFO_FORMAT
    offset = json_output.start(text)
    if offset is not None:
        body = text[offset:]
        if _CARD_KEY.search(body):
            return rocm_smi.FORMAT
        if _AMD_SMI_KEY.search(body):
            return amd_smi.FORMAT
    lines = [line for line in text.splitlines() if line.strip()]
    if any(iommu.LINK.match(line) or iommu.HEADER.match(line) for line in lines):
        return iommu.FORMAT
    if any(lspci.ADDRESS.match(line) and "," not in line[:20] for line in lines):
        return lspci.FORMAT
    if any(line.count(",") >= 3 and _BUS_ID.search(line) for line in lines):
        return nvidia_csv.FORMAT
    return None


def described() -> str:
    """The formats psot reads, as the commands that print them."""
    return "; ".join(" ".join(c) for c in COMMANDS)


def parse(text: str, source: str, format: str | None = None) -> Parsed:
    """Read `text` in `format` (recognised from the content when None); unreadable text is a DETECT001 finding."""
    format = format or recognise(text)
    if format is None:
        parsed = Parsed("unknown", source)
        what = "empty" if not text.strip() else "binary data" if "\x00" in text else "not output psot can read"
        parsed.error("DETECT001", f"{what}: expected the saved output of one of: {described()}")
        return parsed
    return PARSERS[format](text, source)
