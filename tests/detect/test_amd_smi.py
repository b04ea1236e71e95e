"""amd-smi static --json (fixtures written from the AMD SMI CLI documentation, ROCm 6 and 7 shapes)."""

from __future__ import annotations

from generator.detect import amd_smi
from tests.detect.helpers import fixture


def test_rocm_6_list():
    parsed = amd_smi.parse(fixture("mixed-amd-smi.json"), "amd.json")
    assert parsed.findings == []
    gpu, = parsed.gpus
    assert (gpu.vendor, gpu.pci, gpu.pci_id, gpu.model, gpu.vram_gb, gpu.index, gpu.architecture, gpu.driver,
            gpu.tdp_watts) == ("amd", "0000:03:00.0", "1002:744c", "Radeon RX 7900 XTX", 24, 0, "rdna3", "6.10.5", 355)


def test_rocm_7_gpu_data_and_the_older_size_string():
    first, second = amd_smi.parse(fixture("amd-smi-gpu-data.json"), "x").gpus
    assert (first.pci, first.model, first.vram_gb, first.architecture, first.index) == \
        ("0000:c1:00.0", "Instinct MI210", 64, "cdna2", 0)
    assert (second.pci, second.vram_gb, second.index) == ("0000:c2:00.0", 64, 1)


def test_cpu_entries_are_not_gpus():
    parsed = amd_smi.parse('[{"cpu": 0, "smu": {"FW_VERSION": "1.2.3"}}]', "x")
    assert parsed.gpus == [] and parsed.findings == []


def test_a_document_of_another_shape_is_a_finding():
    parsed = amd_smi.parse('{"asic": 1}', "x")
    assert parsed.gpus == [] and parsed.findings[0].code == "DETECT001"


def test_the_boards_subsystem_and_an_apus_system_memory():
    discrete, = amd_smi.parse(fixture("mixed-amd-smi.json"), "amd.json").gpus
    assert (discrete.subsystem_id, discrete.memory) == ("1da2:e471", None)        # Sapphire's board, GDDR6
    apu, = amd_smi.parse(fixture("apu-amd-smi.json"), "amd.json").gpus
    assert (apu.pci, apu.vram_gb, apu.memory, apu.subsystem_id) == ("0000:c4:00.0", 0.5, "unified", "1002:0124")
    # DDR or LPDDR "VRAM" is system memory, whatever the gfx target (one psot does not know, here).
    text = fixture("apu-amd-smi.json").replace('"gfx1103"', '"gfx1199"').replace('"DDR5"', '"LPDDR5X"')
    assert amd_smi.parse(text, "x").gpus[0].memory == "unified"


def test_metric_mem_usage_gives_each_index_its_gtt_and_no_gpu():
    parsed = amd_smi.parse(fixture("apu-amd-smi-metric.json"), "metric.json")
    assert parsed.findings == [] and parsed.gpus == []
    assert parsed.gtt_by_index == {0: 31}
    wrapped = '{"gpu_data": [{"gpu": 1, "mem_usage": {"total_gtt": "65536 MB"}}]}'
    assert amd_smi.parse(wrapped, "x").gtt_by_index == {1: 64}
