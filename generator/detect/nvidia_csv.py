"""nvidia-smi's CSV query: one line per GPU.

    nvidia-smi --query-gpu=index,name,memory.total,pci.bus_id,compute_cap,uuid,driver_version,power.limit \\
               --format=csv,noheader,nounits

Written from `nvidia-smi --help-query-gpu` and nvidia-smi(1): fields are
separated by ", " in the order asked; `nounits` drops the units (memory.total
in MiB, power.limit in W); a value the GPU does not report is `[N/A]` or
`[Not Supported]`; `pci.bus_id` is `domain:bus:device.function` in hex with
an 8-digit domain (`00000000:3B:00.0`); `uuid` is `GPU-` and a UUID
(`GPU-5f0e6c1a-2b7d-4c39-9e84-1d2a3b4c5d6e`); `compute_cap` is `major.minor` and
exists since driver 510 (older drivers refuse the query: see nvidia_xml.py).
Output saved with a header line (`--format=csv`, units kept) is read by
column name.
"""

from __future__ import annotations

import csv

from generator.detect import normalise as n
from generator.detect.records import Parsed, Seen

FORMAT = "nvidia-smi-csv"
FIELDS = ("index", "name", "memory.total", "pci.bus_id", "compute_cap", "uuid", "driver_version", "power.limit")
COMMAND = ["nvidia-smi", f"--query-gpu={','.join(FIELDS)}", "--format=csv,noheader,nounits"]

_ALIASES = {"pci.bus_id": ("pci.bus_id", "gpu_bus_id"), "compute_cap": ("compute_cap",),
            "memory.total": ("memory.total",), "power.limit": ("power.limit", "enforced.power.limit")}


def _header_columns(cells: list[str]) -> list[str] | None:
    """`index, name, memory.total [MiB], ...` -> field names, when the line is a header."""
    names = [c.split("[")[0].strip().lower() for c in cells]
    if "index" not in names or not any(a in names for a in _ALIASES["pci.bus_id"]):
        return None
    out = []
    for name in names:
        out.append(next((field for field, aliases in _ALIASES.items() if name in aliases), name))
    return out


def parse(text: str, source: str) -> Parsed:
    parsed = Parsed(FORMAT, source, covers=frozenset({"nvidia"}))
    columns = list(FIELDS)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cells = next(csv.reader([line], skipinitialspace=True))
        except csv.Error as exc:
            parsed.problem(f"line {number} is not CSV ({exc}); skipped", number)
            continue
        header = _header_columns(cells)
        if header is not None:
            columns = header
            continue
        if len(cells) != len(columns):
            parsed.problem(f"expected {len(columns)} fields ({', '.join(columns)}), found {len(cells)}: "
                           f"{_excerpt(line)}; skipped (run nvidia-smi {' '.join(COMMAND[1:])})", number)
            continue
        gpu = _gpu(dict(zip(columns, (c.strip() for c in cells))), parsed, source, number)
        if gpu is not None:
            parsed.gpus.append(gpu)
    return parsed


def _gpu(row: dict[str, str], parsed: Parsed, source: str, line: int) -> Seen | None:
    pci = n.pci_address(row.get("pci.bus_id"))
    if pci is None:
        parsed.problem(f"pci.bus_id {_excerpt(row.get('pci.bus_id', ''))!r} is not a PCI address; GPU skipped", line)
        return None
    index = row.get("index", "")
    memory = n.to_number(row.get("memory.total"))
    cc = n.compute_capability(row.get("compute_cap"))
    power = n.to_number(row.get("power.limit"))
    return Seen(
        tool="nvidia-smi", vendor="nvidia", pci=pci, model=n.model_name(row.get("name")),
        vram_gb=n.vram_gb(memory), index=int(index) if index.isdigit() and len(index) < 6 else None,
        compute_capability=cc, architecture=n.architecture("nvidia", compute_cap=cc),
        driver=n.driver_version(row.get("driver_version")),
        tdp_watts=round(power) if power is not None and 0 < power < 100_000 else None,
        uuid=n.nvidia_uuid(row.get("uuid")), source=source, line=line)


def _excerpt(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"
