"""rocm-smi --json (fixtures written from rocm-smi's CLI documentation, ROCm 5 and 6 spellings)."""

from __future__ import annotations

from generator.detect import rocm_smi
from tests.detect.helpers import fixture


def test_rocm_6_after_a_warning_line():
    parsed = rocm_smi.parse(fixture("mixed-rocm-smi.json"), "rocm.json")
    assert parsed.findings == []
    gpu, = parsed.gpus
    assert (gpu.vendor, gpu.pci, gpu.pci_id, gpu.model, gpu.vram_gb, gpu.index, gpu.architecture, gpu.driver) == \
        ("amd", "0000:03:00.0", "1002:744c", "Radeon RX 7900 XTX", 24, 0, "rdna3", "6.10.5")
    assert gpu.line == 3 and parsed.covers == {"amd"}


def test_rocm_5_spelling_matches_case_insensitively():
    gpu, = rocm_smi.parse(fixture("rocm-smi-5-nobus.json"), "x").gpus
    assert (gpu.pci, gpu.pci_id, gpu.model, gpu.vram_gb, gpu.architecture) == \
        (None, "1002:744c", "Radeon RX 7900 XT/7900 XTX", 24, "rdna3")


def test_truncated_json_is_a_finding_at_the_break():
    text = fixture("mixed-rocm-smi.json")
    parsed = rocm_smi.parse(text[:len(text) // 2], "rocm.json")
    assert parsed.gpus == []
    problem, = parsed.findings
    assert problem.code == "DETECT001" and problem.line == 3 and problem.column > 1


def test_cards_that_are_not_objects_are_skipped():
    parsed = rocm_smi.parse('{"card0": "N/A", "card1": {"Card Series": "AMD Radeon PRO W7900"}}', "x")
    assert [g.model for g in parsed.gpus] == ["Radeon PRO W7900"]
    assert parsed.findings[0].code == "DETECT003"


def test_an_apus_carve_out_and_its_gtt():
    """--showmeminfo vram gtt: an APU (gfx1103) reports its BIOS carve-out as VRAM, and the GTT it can address."""
    gpu, = rocm_smi.parse(fixture("apu-rocm-smi.json"), "rocm.json").gpus
    assert (gpu.pci, gpu.pci_id, gpu.model, gpu.vram_gb, gpu.gtt_gb, gpu.memory) == \
        ("0000:c4:00.0", "1002:15bf", "Radeon 780M Graphics", 0.5, 31, "unified")
    discrete, = rocm_smi.parse(fixture("mixed-rocm-smi.json"), "rocm.json").gpus
    assert (discrete.memory, discrete.gtt_gb) == (None, None)
