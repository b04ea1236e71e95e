"""lspci -nn -D [-k] [-v] (fixtures written from lspci(8) and lspci.c)."""

from __future__ import annotations

from generator.detect import lspci
from generator.model.core import PciFunction
from tests.detect.helpers import fixture


def test_seed_000_host_gpus_only():
    parsed = lspci.parse(fixture("seed000-lspci.txt"), "lspci.txt")
    assert parsed.findings == []
    rtx, gtx = parsed.gpus        # bridges, audio functions and the NVMe drive are not GPUs
    assert (rtx.pci, rtx.pci_id, rtx.model, rtx.chip, rtx.architecture, rtx.kernel_driver, rtx.line) == \
        ("0000:01:00.0", "10de:2c05", "GeForce RTX 5070 Ti", "GB203", "blackwell", "nvidia", 5)
    assert (gtx.pci, gtx.pci_id, gtx.model, gtx.architecture) == ("0000:02:00.0", "10de:13c2", "GeForce GTX 970",
                                                                  "maxwell")
    assert rtx.vram_gb is None and rtx.index is None and parsed.covers == {"nvidia", "amd", "intel"}
    # -k prints the board too; the HDMI audio at .1 is another function of the card, not a GPU.
    assert (rtx.subsystem_id, rtx.functions) == ("1043:8a15", (PciFunction("0000:01:00.1", "10de:22e9", "0403"),))


def test_every_vendor_and_class():
    parsed = lspci.parse(fixture("mixed-lspci.txt"), "x")
    assert [(g.vendor, g.pci, g.model) for g in parsed.gpus] == [
        ("intel", "0000:00:02.0", "UHD Graphics 770"),
        ("nvidia", "0000:01:00.0", "GeForce RTX 4090"),
        ("amd", "0000:03:00.0", "Radeon RX 7900 XT/7900 XTX/7900M"),
    ]
    text = ("0000:c1:00.0 Processing accelerators [1200]: Advanced Micro Devices, Inc. [AMD/ATI] Aqua Vanjaram "
            "[Instinct MI300X] [1002:74a1]\n"
            "0000:3b:00.0 3D controller [0302]: NVIDIA Corporation Device [10de:2c05] (rev a1)\n"
            "0000:00:18.0 Host bridge [0600]: Advanced Micro Devices, Inc. [AMD] Device [1022:14f0]\n")
    mi300, unknown = lspci.parse(text, "x").gpus
    assert (mi300.model, mi300.architecture) == ("Instinct MI300X", "cdna3")
    assert (unknown.model, unknown.chip, unknown.architecture) == (None, None, "blackwell")   # from its device ID


def test_without_domain_numbers():
    gpu, = lspci.parse("01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GM204 [GeForce GTX 970] "
                       "[10de:13c2] (rev a1)\n", "x").gpus
    assert gpu.pci == "0000:01:00.0"


def test_without_nn_says_so_once():
    text = "\n".join(f"0000:0{i}:00.0 VGA compatible controller: NVIDIA Corporation GM204 [GeForce GTX 970]"
                     for i in range(5))
    parsed = lspci.parse(text, "x")
    assert parsed.gpus == []
    problem, = parsed.findings
    assert problem.code == "DETECT003" and "lspci -nn -D" in problem.message


def test_vfio_bound_card_keeps_its_kernel_driver():
    text = ("0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GB203 [GeForce RTX 5070 Ti] "
            "[10de:2c05] (rev a1)\n\tKernel driver in use: vfio-pci\n\tKernel modules: nouveau, nvidia\n")
    gpu, = lspci.parse(text, "x").gpus
    assert gpu.kernel_driver == "vfio-pci"


def test_verbose_output_gives_the_board_the_iommu_group_and_the_other_functions():
    """lspci -nn -D -k -v: `Subsystem: ... [vvvv:dddd]`, `Flags: ..., IOMMU group N`, blank lines between devices."""
    parsed = lspci.parse(fixture("pve-lspci.txt"), "lspci.txt")
    assert parsed.findings == []
    rtx, gtx = parsed.gpus
    assert (rtx.pci, rtx.subsystem_id, rtx.iommu_group, rtx.kernel_driver, rtx.line) == \
        ("0000:01:00.0", "1043:8a15", 13, "nvidia", 23)
    assert rtx.functions == (PciFunction("0000:01:00.1", "10de:22e9", "0403"),)
    assert (gtx.subsystem_id, gtx.iommu_group, gtx.kernel_driver) == ("3842:2974", 14, "vfio-pci")
    assert gtx.functions == (PciFunction("0000:02:00.1", "10de:0fbb", "0403"),)


def test_very_verbose_iommu_group_line_and_an_apus_many_functions():
    gpu, = lspci.parse(fixture("apu-lspci.txt"), "lspci.txt").gpus
    assert (gpu.pci, gpu.iommu_group, gpu.subsystem_id) == ("0000:c4:00.0", 18, "1002:0124")
    assert gpu.functions == (PciFunction("0000:c4:00.1", "1002:1640", "0403"),
                             PciFunction("0000:c4:00.2", "1022:15c7", "1080"))


def test_without_k_or_v_nothing_more_is_known():
    gpu, = lspci.parse("0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GM204 [GeForce GTX 970] "
                       "[10de:13c2] (rev a1)\n", "x").gpus
    assert (gpu.subsystem_id, gpu.iommu_group, gpu.kernel_driver, gpu.functions) == (None, None, None, None)
