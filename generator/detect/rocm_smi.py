"""rocm-smi's JSON: `rocm-smi --showproductname --showmeminfo vram gtt --showbus --showdriverversion --json`.

Written from rocm-smi's documentation (ROCm SMI LIB, "rocm_smi.py" CLI,
`--json` prints every value asked for as one object): one key per GPU,
`card0`, `card1`, … (the number is rocm-smi's device index), each a flat
mapping of label to value as text, plus a `system` key for host-wide values
(`--showdriverversion`: `Driver version`). Labels used here, matched
ignoring case because their spelling changed across ROCm versions
(`Card series` in 5.x, `Card Series` in 6.x):

- `Card Series` / `Device Name`: the product (`AMD Radeon RX 7900 XTX`, or
  pci.ids' `Navi 31 [Radeon RX 7900 XT/7900 XTX]`),
- `Device ID` (6.x, `0x744c`), `Card Model` (the device ID in 6.x),
- `GFX Version` (`gfx1100`), `VRAM Total Memory (B)` in bytes,
- `GTT Total Memory (B)`: `--showmeminfo` takes several memory types
  (`vram`, `vis_vram`, `gtt`) and prints `<TYPE> Total Memory (B)` for
  each (rocm_smi.py, showMemInfo). On an APU (its gfx target is one,
  normalise.amd_memory) the VRAM is the BIOS carve-out and the GTT what
  the GPU can address: merge.py takes the GTT as its `vram_gb`,
- `PCI Bus` (`--showbus`: `0000:03:00.0`); without it a GPU is merged with
  lspci's and amd-smi's by device ID or index (merge.py).
"""

from __future__ import annotations

import re

from generator.detect import json_output
from generator.detect import normalise as n
from generator.detect.records import Parsed, Seen

FORMAT = "rocm-smi-json"
COMMAND = ["rocm-smi", "--showproductname", "--showmeminfo", "vram", "gtt", "--showbus", "--showdriverversion",
           "--json"]

_CARD = re.compile(r"card(\d{1,4})")


def parse(text: str, source: str) -> Parsed:
    parsed = Parsed(FORMAT, source, covers=frozenset({"amd"}))
    data, first_line, error, (line, column) = json_output.load(text)
    if error is not None:
        parsed.error("DETECT001", f"rocm-smi JSON does not parse ({error}): output truncated, or not "
                     f"`{' '.join(COMMAND)}`", line, column)
        return parsed
    if not isinstance(data, dict):
        parsed.error("DETECT001", "rocm-smi JSON is an object of `cardN` entries; this is not one", first_line)
        return parsed
    folded = json_output.fold(data)
    driver = n.driver_version(json_output.fold(folded.get("system")).get("driver version"))
    for name, card in sorted(folded.items()):
        match = _CARD.fullmatch(name)
        if not match:
            continue
        if not isinstance(card, dict):
            parsed.problem(f"{name} is not an object; skipped", first_line)
            continue
        parsed.gpus.append(_gpu(int(match.group(1)), json_output.fold(card), driver, parsed, source, first_line))
    return parsed


def _gpu(index: int, card: dict, driver: str | None, parsed: Parsed, source: str, line: int) -> Seen:
    bus = card.get("pci bus")
    pci = n.pci_address(bus)
    if bus is not None and pci is None:
        parsed.problem(f"card{index}: PCI Bus {str(bus)[:40]!r} is not a PCI address; merged without it", line)
    device = n.hex4(card.get("device id")) or n.hex4(card.get("card model"))
    gfx = card.get("gfx version")
    gfx = gfx.strip() if isinstance(gfx, str) and re.fullmatch(r"\s*gfx[0-9a-fA-F]{3,4}\s*", gfx) else None
    series = card.get("card series") or card.get("device name")
    chip = series if isinstance(series, str) else None
    size = n.to_number(card.get("vram total memory (b)"))
    gtt = n.to_number(card.get("gtt total memory (b)"))
    return Seen(
        tool="rocm-smi", vendor="amd", pci=pci, pci_id=f"1002:{device}" if device else None,
        model=n.model_name(series), vram_gb=n.vram_gb_from_bytes(size), index=index,
        architecture=n.architecture("amd", gfx=gfx, chip=chip), driver=driver,
        uuid=_text(card.get("unique id")), memory=n.amd_memory(gfx), gtt_gb=n.vram_gb_from_bytes(gtt),
        source=source, line=line)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and 0 < len(value.strip()) < 100 else None
