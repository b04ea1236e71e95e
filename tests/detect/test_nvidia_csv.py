"""nvidia-smi --query-gpu CSV (fixtures written from `nvidia-smi --help-query-gpu`)."""

from __future__ import annotations

from generator.detect import nvidia_csv
from tests.detect.helpers import fixture


def test_seed_000_host():
    parsed = nvidia_csv.parse(fixture("seed000-nvidia-smi.csv"), "nvidia.csv")
    assert parsed.findings == []
    rtx, gtx = parsed.gpus
    assert (rtx.pci, rtx.model, rtx.vram_gb, rtx.index, rtx.compute_capability, rtx.architecture, rtx.driver,
            rtx.tdp_watts) == ("0000:01:00.0", "GeForce RTX 5070 Ti", 16, 0, "12.0", "blackwell", "575.64.03", 300)
    assert rtx.uuid == "GPU-5f0e6c1a-2b7d-4c39-9e84-1d2a3b4c5d6e"
    assert (gtx.pci, gtx.model, gtx.vram_gb, gtx.architecture) == ("0000:02:00.0", "GeForce GTX 970", 4, "maxwell")
    assert parsed.covers == {"nvidia"}


def test_upper_case_eight_digit_bus_id_is_normalised():
    a5500, a400 = nvidia_csv.parse(fixture("seed001-nvidia-smi.csv"), "x").gpus
    assert (a5500.pci, a5500.vram_gb, a5500.tdp_watts) == ("0000:3b:00.0", 24, 230)
    assert (a400.pci, a400.vram_gb, a400.tdp_watts) == ("0000:af:00.0", 4, 50)


def test_saved_with_header_and_units_is_read_by_column_name():
    text = ("index, name, pci.bus_id, memory.total [MiB], compute_cap, uuid, driver_version, power.limit [W]\n"
            "0, NVIDIA RTX A5500, 00000000:3B:00.0, 24564 MiB, 8.6, GPU-1, 550.127.05, 230.00 W\n")
    gpu, = nvidia_csv.parse(text, "x").gpus
    assert (gpu.pci, gpu.vram_gb, gpu.tdp_watts, gpu.driver) == ("0000:3b:00.0", 24, 230, "550.127.05")


def test_values_the_gpu_does_not_report():
    text = "0, NVIDIA GeForce GTX 970, 4096, 00000000:02:00.0, [N/A], GPU-9, 470.182.03, [Not Supported]\n"
    gpu, = nvidia_csv.parse(text, "x").gpus
    assert gpu.compute_capability is None and gpu.tdp_watts is None and gpu.architecture is None


def test_a_short_line_is_a_finding_with_its_line_and_the_rest_is_kept():
    text = fixture("seed000-nvidia-smi.csv").replace("\n", "\n0, NVIDIA GeForce, 4096\n", 1)
    parsed = nvidia_csv.parse(text, "saved.csv")
    assert len(parsed.gpus) == 2
    problem, = parsed.findings
    assert (problem.code, problem.severity, problem.file, problem.line) == ("DETECT003", "warning", "saved.csv", 2)
    assert "expected 8 fields" in problem.message and "found 3" in problem.message


def test_a_line_without_a_bus_id_is_skipped_with_a_finding():
    parsed = nvidia_csv.parse("0, NVIDIA X, 4096, nowhere, 8.6, GPU-1, 550.1, 50\n", "x")
    assert parsed.gpus == [] and parsed.findings[0].code == "DETECT003"


def test_a_uuid_is_nvidias_form_or_none():
    text = ("0, NVIDIA RTX A5500, 24564, 00000000:3B:00.0, 8.6, [N/A], 550.127.05, 230.00\n"
            "1, NVIDIA RTX A400, 4094, 00000000:AF:00.0, 8.6, GPU-3e4f5a6b, 550.127.05, 50.00\n"
            "2, NVIDIA RTX A400, 4094, 00000000:D8:00.0, 8.6, GPU-3E4F5A6B-7C8D-4E9F-A0B1-C2D3E4F5A6B7, 550.1, 50\n")
    assert [g.uuid for g in nvidia_csv.parse(text, "x").gpus] == [None, None,
                                                                  "GPU-3E4F5A6B-7C8D-4E9F-A0B1-C2D3E4F5A6B7"]
