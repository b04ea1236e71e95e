"""The NVIDIA kernel modules' flavour: /proc/driver/nvidia/version and `modinfo nvidia` (the driver's README)."""

from __future__ import annotations

from generator.detect import formats, nvidia_modules
from generator.detect.records import KernelModules
from tests.detect.helpers import fixture

PROPRIETARY = ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\n"
               "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n")


def test_proc_version_of_the_open_and_the_proprietary_modules():
    parsed = nvidia_modules.parse_version(fixture("pve-nvidia-version.txt"), "version.txt")
    assert parsed.findings == [] and parsed.gpus == []
    assert parsed.kernel_modules == KernelModules("open", True, "version.txt", 1)
    assert nvidia_modules.parse_version(PROPRIETARY, "v").kernel_modules == KernelModules("proprietary", True, "v", 1)
    arm = "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  570.86.16  Release Build  (dvs-builder@x)\n"
    assert nvidia_modules.parse_version(arm, "v").kernel_modules.flavour == "open"


def test_modinfo_license_says_the_flavour():
    parsed = nvidia_modules.parse_modinfo(fixture("pve-modinfo-nvidia.txt"), "modinfo.txt")
    assert parsed.findings == []
    assert parsed.kernel_modules == KernelModules("open", False, "modinfo.txt", 6)
    proprietary = fixture("pve-modinfo-nvidia.txt").replace("Dual MIT/GPL", "NVIDIA")
    assert nvidia_modules.parse_modinfo(proprietary, "m").kernel_modules.flavour == "proprietary"


def test_a_license_of_neither_flavour_or_none_at_all():
    parsed = nvidia_modules.parse_modinfo("name:           nvidia\nlicense:        GPL\n", "m")
    assert parsed.kernel_modules is None
    problem, = parsed.findings
    assert (problem.code, problem.line) == ("DETECT003", 2)
    assert problem.message == ("line 2: license 'GPL' is neither the open modules' (Dual MIT/GPL) nor the proprietary "
                               "ones' (NVIDIA)")
    parsed = nvidia_modules.parse_modinfo("name:           nvidia\n", "m")
    assert [(f.code, f.severity) for f in parsed.findings] == [("DETECT001", "error")]


def test_recognised_by_content():
    assert formats.recognise(fixture("pve-nvidia-version.txt")) == nvidia_modules.VERSION_FORMAT
    assert formats.recognise(PROPRIETARY) == nvidia_modules.VERSION_FORMAT
    assert formats.recognise(fixture("pve-modinfo-nvidia.txt")) == nvidia_modules.MODINFO_FORMAT
    # modinfo of another module is not the NVIDIA driver's
    assert formats.recognise("filename:       /lib/modules/6.8.0/kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko.zst\n"
                             "license:        GPL and additional rights\nname:           amdgpu\n") is None
