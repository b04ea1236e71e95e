"""Merging the tools' views of one GPU by PCI address; names; a card the driver does not run."""

from __future__ import annotations

from generator.detect import formats, merge, tools
from tests.detect.helpers import APU, FIXTURES, MIXED, SEED_000, fixture


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
    # ... and lspci the board (subsystem), the kernel driver bound to it and the card's other functions.
    assert nvidia.fields() == {"vendor": "nvidia", "model": "GeForce RTX 4090", "vram_gb": 24, "index": 0,
                               "pci": "0000:01:00.0", "pci_id": "10de:2684", "architecture": "ada",
                               "compute_capability": "8.9", "driver": "570.133.07", "tdp_watts": 450,
                               "uuid": "GPU-1b724e78-eef5-4163-d43c-e4da15d41176", "subsystem_id": "1458:40bf",
                               "driver_in_use": "nvidia",
                               "functions": [{"pci": "0000:01:00.1", "pci_id": "10de:22ba", "class": "0403"}]}
    assert amd.fields() == {"vendor": "amd", "model": "Radeon RX 7900 XTX", "vram_gb": 24, "index": 0,
                            "pci": "0000:03:00.0", "pci_id": "1002:744c", "architecture": "rdna3",
                            "driver": "6.10.5", "tdp_watts": 355, "subsystem_id": "1da2:e471",
                            "driver_in_use": "amdgpu",
                            "functions": [{"pci": "0000:03:00.1", "pci_id": "1002:ab30", "class": "0403"}]}
    assert intel.fields() == {"vendor": "intel", "model": "UHD Graphics 770", "pci": "0000:00:02.0",
                              "pci_id": "8086:4680", "subsystem_id": "1462:7d25", "driver_in_use": "i915"}
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


def test_an_iommu_listing_gives_the_gpus_of_the_other_outputs_their_group():
    detection = merge.merge(tools.read_files([*SEED_000, FIXTURES / "pve-iommu-groups.txt"]))
    assert [(g.pci, g.iommu_group) for g in detection.gpus] == [("0000:01:00.0", 13), ("0000:02:00.0", 14)]
    assert detection.findings == [] and detection.tools == ["nvidia-smi", "lspci"]


def test_lspcis_own_group_comes_first_and_two_listings_that_disagree_give_the_lower():
    listing = "/sys/kernel/iommu_groups/{}/devices/0000:01:00.0\n"
    detection = detect(("lspci", fixture("pve-lspci.txt")), ("a", listing.format(40)))
    assert detection.gpus[0].iommu_group == 13
    one = detect(("lspci", fixture("seed000-lspci.txt")), ("a", listing.format(40)), ("b", listing.format(12)))
    other = detect(("lspci", fixture("seed000-lspci.txt")), ("b", listing.format(12)), ("a", listing.format(40)))
    assert one.gpus[0].iommu_group == other.gpus[0].iommu_group == 12


def test_an_apus_vram_is_the_gtt_it_can_address():
    detection = merge.merge(tools.read_files(APU))
    gpu, = merge.named(detection.gpus)
    assert detection.findings == []
    assert gpu.fields() == {"vendor": "amd", "model": "Radeon 780M Graphics", "vram_gb": 31, "index": 0,
                            "pci": "0000:c4:00.0", "pci_id": "1002:15bf", "architecture": "rdna3",
                            "driver": "6.11.0", "memory": "unified", "subsystem_id": "1002:0124",
                            "driver_in_use": "amdgpu", "iommu_group": 18,
                            "functions": [{"pci": "0000:c4:00.1", "pci_id": "1002:1640", "class": "0403"},
                                          {"pci": "0000:c4:00.2", "pci_id": "1022:15c7", "class": "1080"}]}


def test_amd_smi_metric_gives_its_gtt_to_the_amd_smi_gpu_of_that_index():
    static, metric = (fixture("apu-amd-smi.json"), fixture("apu-amd-smi-metric.json"))
    gpu, = detect(("static", static), ("metric", metric)).gpus
    assert (gpu.vram_gb, gpu.gtt_gb, gpu.memory) == (31, 31, "unified")
    other_index = metric.replace('"gpu": 0', '"gpu": 1')
    gpu, = detect(("static", static), ("metric", other_index)).gpus
    assert (gpu.vram_gb, gpu.gtt_gb) == (0.5, None)


def test_an_apu_without_its_gtt_keeps_the_carve_out_and_says_so():
    detection = detect(("amd.json", fixture("apu-amd-smi.json")))
    gpu, = detection.gpus
    assert (gpu.vram_gb, gpu.memory) == (0.5, "unified")
    problem, = detection.findings
    assert (problem.code, problem.file, problem.line) == ("DETECT029", "amd.json", 1)
    assert problem.message == (
        "0000:c4:00.0 (Radeon 780M Graphics, 1002:15bf) is an APU: its 0.5 GB of VRAM is the share of system memory "
        "the BIOS reserves for it, and it can address more (the GTT), which no output gave; the block says the "
        "reserved share. Add the output of rocm-smi --showmeminfo vram gtt --json or amd-smi metric --mem-usage --json")


def test_the_host_kernel_modules_loaded_before_installed():
    version, modinfo = fixture("pve-nvidia-version.txt"), fixture("pve-modinfo-nvidia.txt")
    detection = detect(("modinfo.txt", modinfo), ("version.txt", version))
    assert (detection.kernel_modules, detection.findings) == ("open", [])
    assert detection.host_fields() == {"nvidia": {"kernel_modules": "open"}}
    installed_other = modinfo.replace("Dual MIT/GPL", "NVIDIA")
    detection = detect(("modinfo.txt", installed_other), ("version.txt", version))
    assert detection.kernel_modules == "open"
    problem, = detection.findings
    assert (problem.code, problem.file, problem.line) == ("DETECT028", "modinfo.txt", 6)
    assert problem.message == ("the NVIDIA kernel modules installed are proprietary (modinfo.txt), those loaded open "
                               "(version.txt); the block says kernel_modules: open, which runs now: the next boot "
                               "loads the installed ones; reboot, or install the flavour the host is to run")
    alone = detect(("modinfo.txt", installed_other))
    assert (alone.kernel_modules, alone.findings) == ("proprietary", [])
    assert detect(("lspci", fixture("seed000-lspci.txt"))).host_fields() == {}


def test_two_proc_versions_that_differ_come_from_two_machines():
    proprietary = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\n"
    detection = detect(("b.txt", proprietary), ("a.txt", fixture("pve-nvidia-version.txt")))
    assert detection.kernel_modules == "open"          # of two of a kind, the first file by name
    problem, = detection.findings
    assert problem.file == "b.txt" and problem.message.endswith(": these outputs come from different machines or boots")
