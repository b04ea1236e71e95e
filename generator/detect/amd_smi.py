"""amd-smi's JSON: `amd-smi static --json`, and `amd-smi metric --mem-usage --json` for an APU's GTT.

Written from the AMD SMI CLI documentation (rocm.docs.amd.com, "AMD SMI CLI
tool usage", `amd-smi static --help`) and the shape its JSON logger gives
each section: one object per GPU with `gpu` (its index) and the sections
`asic` (`market_name`, `vendor_id` `0x1002`, `device_id` `0x744c`,
`target_graphics_version` `gfx1100`), `bus` (`bdf` `0000:03:00.0`), `driver`
(`name`, `version`), `vram` (`size` as `{"value": 24560, "unit": "MB"}`;
older releases wrote `"24560 MB"` or a bare number of MB) and `limit`
(`socket_power` / `max_power` as `{"value": 300, "unit": "W"}`). ROCm 6
prints a list of those objects; ROCm 7 wraps it as `{"gpu_data": [...]}`.
Both are read. `asic` also has `subvendor_id` and `subsystem_id` (the
board's maker and model); `vram.type` names the memory (amdsmi.h's
amdsmi_vram_type_t: GDDR6, HBM3, or DDR5 and LPDDR5 on an APU, whose VRAM
is a carve-out of system memory).

`amd-smi metric --mem-usage --json` gives, per `gpu` index, `mem_usage`
with `total_vram` and `total_gtt` as `{"value": 31898, "unit": "MB"}`
(amdsmi_commands.py, metric_gpu): no GPU of its own, but the GTT each
index can address, which merge.py gives to the amd-smi GPU of that index.
"""

from __future__ import annotations

import re

from generator.detect import json_output
from generator.detect import normalise as n
from generator.detect.records import Parsed, Seen

FORMAT = "amd-smi-json"
COMMAND = ["amd-smi", "static", "--json"]
METRIC_COMMAND = ["amd-smi", "metric", "--mem-usage", "--json"]

_UNITS_MIB = {"b": 1 / (1024 * 1024), "kb": 1 / 1024, "kib": 1 / 1024, "mb": 1, "mib": 1, "gb": 1024, "gib": 1024}


def parse(text: str, source: str) -> Parsed:
    parsed = Parsed(FORMAT, source, covers=frozenset({"amd"}))
    data, first_line, error, (line, column) = json_output.load(text)
    if error is not None:
        parsed.error("DETECT001", f"amd-smi JSON does not parse ({error}): output truncated, or not "
                     f"`{' '.join(COMMAND)}`", line, column)
        return parsed
    if isinstance(data, dict):
        data = json_output.fold(data).get("gpu data")
    if not isinstance(data, list):
        parsed.error("DETECT001", "amd-smi static JSON is a list of GPUs (or {\"gpu_data\": [...]}); this is not one",
                     first_line)
        return parsed
    for position, entry in enumerate(data):
        if not isinstance(entry, dict):
            parsed.problem(f"entry {position} is not an object; skipped", first_line)
            continue
        folded = json_output.fold(entry)
        if "mem usage" in folded:
            _memory_usage(folded, parsed)
        if "mem usage" in folded and not {"asic", "bus", "vram"} & folded.keys():
            continue      # amd-smi metric: figures for a GPU that amd-smi static describes
        gpu = _gpu(folded, position, parsed, source, first_line)
        if gpu is not None:
            parsed.gpus.append(gpu)
    return parsed


def _memory_usage(entry: dict, parsed: Parsed) -> None:
    """`amd-smi metric --mem-usage`: the GTT of GPU `gpu`, in GB, for merge to give to that GPU."""
    index = _index(entry.get("gpu"))
    gtt = _size_mib(json_output.fold(entry.get("mem usage")).get("total gtt"))
    size = n.vram_gb(gtt)
    if index is not None and size is not None:
        parsed.gtt_by_index[index] = size


def _gpu(entry: dict, position: int, parsed: Parsed, source: str, line: int) -> Seen | None:
    if "cpu" in entry and "gpu" not in entry:
        return None    # `amd-smi static` also lists CPUs on EPYC hosts
    asic = json_output.fold(entry.get("asic"))
    bus = json_output.fold(entry.get("bus"))
    bdf = bus.get("bdf") or asic.get("pci bdf") or entry.get("bdf")
    pci = n.pci_address(bdf)
    if bdf not in (None, "N/A") and pci is None:
        parsed.problem(f"GPU entry {position}: bdf {str(bdf)[:40]!r} is not a PCI address; merged without it", line)
    vendor = n.vendor_of_id(n.hex4(asic.get("vendor id"))) or "amd"
    device = n.hex4(asic.get("device id"))
    gfx = asic.get("target graphics version")
    gfx = gfx.strip() if isinstance(gfx, str) and re.fullmatch(r"\s*gfx[0-9a-fA-F]{3,4}\s*", gfx) else None
    market = asic.get("market name")
    board = json_output.fold(entry.get("board")).get("product name")
    model = n.model_name(market) or n.model_name(board)
    vram = json_output.fold(entry.get("vram"))
    driver = json_output.fold(entry.get("driver"))
    limit = json_output.fold(entry.get("limit"))
    power = _quantity(limit.get("socket power"))
    if power is None:
        power = _quantity(limit.get("max power"))
    return Seen(
        tool="amd-smi", vendor=vendor, pci=pci, pci_id=f"1002:{device}" if device and vendor == "amd" else None,
        model=model, vram_gb=n.vram_gb(_size_mib(vram.get("size", vram.get("vram size", vram.get("vram size mb"))))),
        index=_index(entry.get("gpu")),
        architecture=n.architecture(vendor, gfx=gfx, chip=market if isinstance(market, str) else None),
        driver=n.driver_version(driver.get("version") or driver.get("driver version")),
        tdp_watts=round(power) if power is not None and 0 < power < 100_000 else None,
        subsystem_id=n.pci_id(asic.get("subvendor id"), asic.get("subsystem id")) if vendor == "amd" else None,
        memory=n.amd_memory(gfx, vram.get("type")) if vendor == "amd" else None, source=source, line=line)


def _index(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10_000 else None


def _size_mib(size: object) -> float | None:
    """`{"value": 24560, "unit": "MB"}`, `"24560 MB"` or `24560` (MB, which amd-smi means as MiB)."""
    if isinstance(size, dict):
        folded = json_output.fold(size)
        value, unit = n.to_number(folded.get("value")), folded.get("unit", "MB")
    elif isinstance(size, str):
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", size)
        value, unit = (float(match.group(1)), match.group(2) or "MB") if match else (None, "MB")
    else:
        value, unit = n.to_number(size), "MB"
    factor = _UNITS_MIB.get(unit.lower()) if isinstance(unit, str) else None
    return value * factor if value is not None and factor is not None else None


def _quantity(value: object) -> float | None:
    if isinstance(value, dict):
        return n.to_number(json_output.fold(value).get("value"))
    return n.to_number(value)
