"""Merging the tools' views of one GPU by PCI address; names; a card the driver does not run."""

from __future__ import annotations

from generator.detect import formats, merge, tools
from tests.detect.helpers import MIXED, SEED_000, fixture


def detect(*texts: tuple[str, str]) -> merge.Detection:
    detection = merge.merge([formats.parse(text, source) for source, text in texts])
    detection.gpus = merge.named(detection.gpus)
    return detection


def test_mixed_host_nvidia_amd_intel_merged_by_pci_address():
    detection = merge.merge(tools.read_files(MIXED))
    gpus = merge.named(detection.gpus)
    assert [(g.pci, g.name, g.tools) for g in gpus] == [
        ("0000:00:02.0", "uhd-graphics-770", ("lspci",)),
        ("0000:01:00.0", "rtx-4090", ("nvidia-smi", "lspci")),
        ("0000:03:00.0", "rx-7900-xtx", ("amd-smi", "rocm-smi", "lspci")),
    ]
    intel, nvidia, amd = gpus
    # lspci gives the vendor:device ID; the vendor tools the VRAM, index, driver and capability.
    assert nvidia.fields() == {"vendor": "nvidia", "model": "GeForce RTX 4090", "vram_gb": 24, "index": 0,
                               "pci": "0000:01:00.0", "pci_id": "10de:2684", "architecture": "ada",
                               "compute_capability": "8.9", "driver": "570.133.07", "tdp_watts": 450}
    assert amd.fields() == {"vendor": "amd", "model": "Radeon RX 7900 XTX", "vram_gb": 24, "index": 0,
                            "pci": "0000:03:00.0", "pci_id": "1002:744c", "architecture": "rdna3",
                            "driver": "6.10.5", "tdp_watts": 355}
    assert intel.fields() == {"vendor": "intel", "model": "UHD Graphics 770", "pci": "0000:00:02.0",
                              "pci_id": "8086:4680"}
    assert not intel.complete and nvidia.complete and amd.complete
    assert detection.covers == {"nvidia", "amd", "intel"}
    assert [f.code for f in detection.findings] == []


def test_order_of_the_outputs_changes_nothing():
    one = merge.named(merge.merge(tools.read_files(MIXED)).gpus)
    other = merge.named(merge.merge(tools.read_files(list(reversed(MIXED)))).gpus)
    assert [g.fields() for g in one] == [g.fields() for g in other]


def test_rocm_smi_without_bus_joins_lspcis_card_by_device_id():
    detection = detect(("lspci", fixture("mixed-lspci.txt")), ("rocm", fixture("rocm-smi-5-nobus.json")))
    amd = next(g for g in detection.gpus if g.vendor == "amd")
    assert (amd.pci, amd.vram_gb, amd.tools) == ("0000:03:00.0", 24, ("rocm-smi", "lspci"))
    assert not any(f.code == "DETECT008" for f in detection.findings)


def test_rocm_smi_without_bus_and_nothing_to_join_is_listed_without_pci():
    detection = detect(("rocm", fixture("rocm-smi-5-nobus.json")))
    gpu, = detection.gpus
    assert gpu.pci is None and gpu.complete
    assert [f.code for f in detection.findings] == ["DETECT008"]


def test_duplicate_models_are_numbered_by_pci_address():
    csv = ("1, NVIDIA RTX A5500, 24564, 00000000:AF:00.0, 8.6, GPU-2, 550.127.05, 230.00\n"
           "0, NVIDIA RTX A5500, 24564, 00000000:3B:00.0, 8.6, GPU-1, 550.127.05, 230.00\n")
    detection = detect(("nvidia-smi", csv))
    assert [(g.name, g.pci) for g in detection.gpus] == [("rtx-a5500", "0000:3b:00.0"), ("rtx-a5500-2", "0000:af:00.0")]


def test_tools_disagreeing_on_vram_is_a_warning():
    rocm = fixture("mixed-rocm-smi.json").replace("25753026560", "17163091968")
    detection = detect(("rocm", rocm), ("amd", fixture("mixed-amd-smi.json")))
    gpu, = detection.gpus
    assert gpu.vram_gb == 24            # amd-smi comes first
    problem, = detection.findings
    assert problem.code == "DETECT007" and "amd-smi 24 GB" in problem.message and "rocm-smi 16 GB" in problem.message


def test_card_on_the_bus_that_nvidia_smi_does_not_list_is_unusable():
    """Seed 003's 'detected but unusable': lspci sees the 5070 Ti, the driver does not run it."""
    only_970 = fixture("seed000-nvidia-smi.csv").splitlines()[1] + "\n"
    detection = detect(("nvidia-smi", only_970), ("lspci", fixture("seed000-lspci.txt")))
    problem, = [f for f in detection.findings if f.code == "DETECT010"]
    assert "0000:01:00.0 (GeForce RTX 5070 Ti, 10de:2c05)" in problem.message
    assert "nvidia-smi does not list it" in problem.message and problem.file == "lspci" and problem.line == 5


def test_card_bound_to_vfio_is_passed_through_not_unusable():
    lspci = fixture("seed000-lspci.txt").replace("Kernel driver in use: nvidia\n\tKernel modules: nouveau, "
                                                 "nvidia_drm, nvidia\n0000:01:00.1",
                                                 "Kernel driver in use: vfio-pci\n0000:01:00.1", 1)
    only_970 = fixture("seed000-nvidia-smi.csv").splitlines()[1] + "\n"
    detection = detect(("nvidia-smi", only_970), ("lspci", lspci))
    assert not any(f.code == "DETECT010" for f in detection.findings)


def test_lspci_alone_says_nothing_about_drivers():
    detection = detect(*[(str(p), p.read_text()) for p in SEED_000[1:]])
    assert not any(f.code == "DETECT010" for f in detection.findings)
