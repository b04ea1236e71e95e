"""NVIDIA: the vendor row, one row per GPU architecture, the SKUs that need more, the CUDA releases.

A GPU whose driver is older than its architecture's minimum cannot run GPU
workloads: psot treats it as `unavailable`, so placement moves its workloads
elsewhere (seed 000: "use GTX 970 for all workloads until RTX 5070 Ti
drivers available"). Older than the recommended version, it works but is
`degraded` (seed 003: Blackwell runs on 570.86.16, 575+ recommended) and
placement uses it only when nothing else fits (generator/hardware/driver_status.py).

Sources, cited by the rows below:

- [CUDA] NVIDIA CUDA Toolkit Release Notes
  (https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html), as the
  CUDA 13.2 Update 2 notes print them: Table 3 "CUDA Toolkit and Corresponding
  Driver Versions" (Linux x86_64 column) and "Deprecated Architectures".
- [MATRIX] NVIDIA Data Center Drivers, "CUDA Toolkit, Driver, and Architecture
  Matrix" (https://docs.nvidia.com/datacenter/tesla/drivers/cuda-toolkit-driver-and-architecture-matrix.html):
  per architecture its compute capabilities, first and last CUDA toolkit and
  last driver branch (Fermi 2.0, CUDA 3.0 to 8.0, R390; Kepler 3.0/3.2 to CUDA
  10.2 and 3.5/3.7 to 11.x, R470; Maxwell 5.0/5.2/5.3, Pascal 6.0/6.1, Volta
  7.0: to CUDA 12.x, R580; Turing 7.5, Ampere 8.0/8.6, Ada 8.9, Hopper 9.0,
  Blackwell 10.0/12.0: ongoing).
- [PCI] pci.ids (https://pci-ids.ucw.cz/read/PC/10de): each block of device
  IDs belongs to one chip family, e.g. 13c2 GM204 [GeForce GTX 970], 1b80
  GP104, 1db4 GV100, 1eb8 TU104, 2204 GA102, 2233 GA102GL [RTX A5500], 25b2
  GA107GL [RTX A400], 2330 GH100, 2684 AD102, 2c05 GB203 [GeForce RTX 5070 Ti],
  2d04 GB206, 2f04 GB205; chip code names start with the architecture's
  letters (GM204, GA102GL, GB203).
- [OPEN] NVIDIA's driver installation guide, "Kernel Modules"
  (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/kernel-modules.html):
  the proprietary flavour "is required for older GPUs from the Maxwell,
  Pascal, or Volta architectures"; the open flavour is "only for Turing and
  newer" (it needs the GSP, first in Turing). NVIDIA Technical Blog, "NVIDIA
  Transitions Fully Towards Open-Source GPU Kernel Modules" (July 2024,
  https://developer.nvidia.com/blog/nvidia-transitions-fully-towards-open-source-gpu-kernel-modules/):
  "For cutting-edge platforms such as NVIDIA Grace Hopper or NVIDIA Blackwell,
  you must use the open-source GPU kernel modules".
- [LEGACY] NVIDIA forums, "Unix Graphics Feature Deprecation Schedule"
  (https://forums.developer.nvidia.com/t/unix-graphics-feature-deprecation-schedule/60588):
  "The release 580 series will be the last to support GPUs based on the
  Maxwell, Pascal, and Volta architectures"; Fermi "supported through the
  release 390 legacy branch". "Current graphics driver releases"
  (https://forums.developer.nvidia.com/t/current-graphics-driver-releases/28500):
  legacy 470.239.06 for GKxxx "Kepler" GPUs, 390.157 for GF1xx "Fermi".
- [MIG] NVIDIA Multi-Instance GPU User Guide: "Supported GPUs" (Max Number of
  Instances; https://docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-gpus.html)
  and "Deployment Considerations" (minimum driver per GPU;
  https://docs.nvidia.com/datacenter/tesla/mig-user-guide/620/deployment-considerations.html).
- [README] NVIDIA open-gpu-kernel-modules README, "Compatible GPUs"
  (https://github.com/NVIDIA/open-gpu-kernel-modules): the product names and
  PCI device IDs of every release (one git tag each). Blackwell runs only on
  the open modules, so the lowest-numbered release whose table lists a
  Blackwell device is the first driver that knows it.
"""

from __future__ import annotations

from generator.hardware.rows import Architecture, CudaRelease, Sku, Vendor

VENDOR = Vendor(
    key="nvidia",
    name="NVIDIA",
    pci_vendor_id="10de",                     # [PCI]
    # NVIDIA device plugin for Kubernetes (https://github.com/NVIDIA/k8s-device-plugin).
    kubernetes_resource="nvidia.com/gpu",
    # NVIDIA Container Toolkit, "Support for Container Device Interface"
    # (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/cdi-support.html).
    cdi_kind="nvidia.com/gpu",
    # Compose reserves NVIDIA GPUs with `driver: nvidia` and the CUDA index (seed 001, NVIDIA
    # Container Toolkit); the CDI names nvidia-ctk generates depend on its --device-name-strategy.
    cdi_device=None,
    compose_driver="nvidia",
    # Both flavours load as `nvidia` ([OPEN]: nvidia.ko, nvidia-modeset.ko, nvidia-uvm.ko, nvidia-drm.ko).
    host_modules=("nvidia",),
    # nouveau, the kernel's own driver, would claim the card first; psot's NVIDIA GPUs run NVIDIA's driver.
    always_blacklisted=("nouveau",),
)


# The first release of NVIDIA's open GPU kernel modules ([OPEN]; the first tag of
# https://github.com/NVIDIA/open-gpu-kernel-modules/releases): older drivers have only the proprietary flavour.
OPEN_MODULES_FIRST_DRIVER = "515.43.04"


def _arch(name: str, display: str, chip: str, cc: tuple[tuple[int, int], tuple[int, int]],
          pci: tuple[tuple[int, int], ...], minimum: str | None, recommended: str | None,
          last_branch: int | None, modules: tuple[str, ...]) -> Architecture:
    return Architecture(vendor="nvidia", name=name, display=display, chips=(rf"(?i)^{chip}\d",), gfx_prefixes=(),
                        compute_capability=cc, pci_devices=pci, minimum_driver=minimum,
                        recommended_driver=recommended, last_driver_branch=last_branch, kernel_modules=modules)


# Minimum: the Linux x86_64 driver of the first CUDA toolkit that supports the architecture ([CUDA]
# Table 3, its row quoted). Recommended: given only where a source says a newer branch is needed to
# run well; elsewhere it equals the minimum (no `degraded` range). PCI ranges: [PCI]; IDs outside them
# give no architecture rather than a guess. Compute capabilities: [MATRIX], the lowest and highest it
# lists (and Fermi's 2.1: "CUDA SDK 3.2 support for compute capability 1.0 – 2.1",
# https://en.wikipedia.org/wiki/CUDA); a capability between two generations' belongs to the older
# one, and one above every row's to the newest. Last driver branch: [MATRIX] and [LEGACY]. Kernel
# modules: [OPEN] (R470 and R390 predate the open flavour, which came with R515).
ARCHITECTURES: tuple[Architecture, ...] = (
    # Minimum and recommended None: the toolkits that introduced Fermi (CUDA 3.0) and Kepler (CUDA 6.0,
    # [MATRIX]) predate Table 3, and psot does not judge these drivers. No PCI ranges known to psot.
    _arch("fermi", "Fermi", "GF", ((2, 0), (2, 1)), (), None, None, 390, ("proprietary",)),
    _arch("kepler", "Kepler", "GK", ((3, 0), (3, 7)), (), None, None, 470, ("proprietary",)),
    # CUDA 7.0 (7.0.28): >= 346.46, the table's first row, and it covers Maxwell (sm_50/sm_52; the
    # CUDA 6.x toolkits that introduced Maxwell predate the table).
    _arch("maxwell", "Maxwell", "GM", ((5, 0), (5, 3)),
          ((0x1340, 0x13FF), (0x1400, 0x143F), (0x1617, 0x1667), (0x17C0, 0x17FF)),
          "346.46", "346.46", 580, ("proprietary",)),
    # CUDA 8.0 (8.0.44): >= 367.48, the first toolkit with Pascal (sm_60/sm_61).
    _arch("pascal", "Pascal", "GP", ((6, 0), (6, 1)),
          ((0x15F0, 0x15FF), (0x1B00, 0x1CFF), (0x1D00, 0x1D7F)),
          "367.48", "367.48", 580, ("proprietary",)),
    # CUDA 9.0 (9.0.76): >= 384.81, the first toolkit with Volta (sm_70).
    _arch("volta", "Volta", "GV", ((7, 0), (7, 0)), ((0x1D80, 0x1DFF),),
          "384.81", "384.81", 580, ("proprietary",)),
    # CUDA 10.0 (10.0.130): >= 410.48, the first toolkit with Turing (sm_75).
    _arch("turing", "Turing", "TU", ((7, 5), (7, 5)), ((0x1E00, 0x1FFF), (0x2180, 0x21FF)),
          "410.48", "410.48", None, ("open", "proprietary")),
    # CUDA 11.0 (11.0.1 RC): >= 450.36.06, the first toolkit with Ampere (GA100, sm_80);
    # GA10x cards (sm_86, RTX 30 / RTX A-series) arrived with CUDA 11.1 GA: >= 455.23.
    _arch("ampere", "Ampere", "GA", ((8, 0), (8, 6)),
          ((0x2080, 0x20FF), (0x2200, 0x22FF), (0x2400, 0x25FF)),
          "450.36.06", "455.23", None, ("open", "proprietary")),
    # CUDA 11.8 GA: >= 520.61.05, the first toolkit with Ada Lovelace (sm_89).
    _arch("ada", "Ada Lovelace", "AD", ((8, 9), (8, 9)), ((0x2680, 0x28FF),),
          "520.61.05", "520.61.05", None, ("open", "proprietary")),
    # CUDA 11.8 GA: >= 520.61.05, the first toolkit with Hopper (sm_90).
    _arch("hopper", "Hopper", "GH", ((9, 0), (9, 0)), ((0x2300, 0x23FF),),
          "520.61.05", "520.61.05", None, ("open", "proprietary")),
    # CUDA 12.8 GA: >= 570.26, the first toolkit with Blackwell (sm_100, sm_120). The table's number,
    # not the driver seed 003 happens to run (570.86.16): a product still needs a driver that knows
    # it (SKUS below). Recommended: seeds 000 and 003, "NVIDIA 575+ drivers" for Blackwell (570.86.16
    # "functional (suboptimal but workable)").
    _arch("blackwell", "Blackwell", "GB", ((10, 0), (12, 0)),
          ((0x2900, 0x29FF), (0x2B00, 0x2DFF), (0x2F00, 0x2FFF)),
          "570.26", "575", None, ("open",)),
)


def _sku(device: int, name: str, architecture: str, chip: str | None = None, minimum: str | None = None,
         mig: int | None = None, mig_minimum: str | None = None) -> Sku:
    return Sku(vendor="nvidia", device=device, name=name, architecture=architecture, chip=chip,
               minimum_driver=minimum, mig_instances=mig, mig_minimum_driver=mig_minimum)


# Device IDs and product names: [README], verbatim. MIG: [MIG], instances from "Supported GPUs", drivers from
# "Deployment Considerations" (A100 R450 >= 450.80.02, A30 R460 >= 460.73.01, H100 R525 >= 525.85.12,
# H200 R550 >= 550.90.07, B200 R570 >= 570.133.20, RTX PRO 6000 Blackwell, all editions, R575 >= 575.51.03).
# Minimum drivers (Blackwell only, see [README]): the lowest-numbered release listing the device;
# elsewhere None, as the README table lists only what the open modules drive, which before Blackwell
# is not what the driver supports. Chips: [PCI] (GB100, GB202, GB203, GB206). A driver that lists
# one product of a chip carries that chip's GSP firmware and support code, so it runs the chip's
# other products before it lists them: seed 003 runs an RTX 5070 Ti (GB203, listed from 570.123.01)
# on 570.86.16, which lists the RTX 5080 (GB203), "functional (suboptimal but workable)". psot
# therefore treats a driver below the first one that knows the chip as `unavailable`, and one
# that knows the chip but not yet the product as `degraded` (generator/hardware/driver_status.py).
SKUS: tuple[Sku, ...] = (
    _sku(0x20B0, "NVIDIA A100-SXM4-40GB", "ampere", "GA100", mig=7, mig_minimum="450.80.02"),
    _sku(0x20B2, "NVIDIA A100-SXM4-80GB", "ampere", "GA100", mig=7, mig_minimum="450.80.02"),
    _sku(0x20B5, "NVIDIA A100 80GB PCIe", "ampere", "GA100", mig=7, mig_minimum="450.80.02"),
    _sku(0x20B7, "NVIDIA A30", "ampere", "GA100", mig=4, mig_minimum="460.73.01"),
    _sku(0x20F1, "NVIDIA A100-PCIE-40GB", "ampere", "GA100", mig=7, mig_minimum="450.80.02"),
    _sku(0x2330, "NVIDIA H100 80GB HBM3", "hopper", "GH100", mig=7, mig_minimum="525.85.12"),      # H100-SXM5
    _sku(0x2331, "NVIDIA H100 PCIe", "hopper", "GH100", mig=7, mig_minimum="525.85.12"),
    _sku(0x2335, "NVIDIA H200", "hopper", "GH100", mig=7, mig_minimum="550.90.07"),                # H200-SXM5
    _sku(0x2901, "NVIDIA B200", "blackwell", "GB100", "570.86.15", mig=7, mig_minimum="570.133.20"),
    _sku(0x2B85, "NVIDIA GeForce RTX 5090", "blackwell", "GB202", "570.86.16"),
    _sku(0x2BB1, "NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "blackwell", "GB202", "570.123.07",
         mig=4, mig_minimum="575.51.03"),
    _sku(0x2BB4, "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "blackwell", "GB202", "570.123.07",
         mig=4, mig_minimum="575.51.03"),
    _sku(0x2BB5, "NVIDIA RTX PRO 6000 Blackwell Server Edition", "blackwell", "GB202", "575.57.08",
         mig=4, mig_minimum="575.51.03"),
    _sku(0x2C02, "NVIDIA GeForce RTX 5080", "blackwell", "GB203", "570.86.16"),
    _sku(0x2C05, "NVIDIA GeForce RTX 5070 Ti", "blackwell", "GB203", "570.123.01"),
    _sku(0x2D04, "NVIDIA GeForce RTX 5060 Ti", "blackwell", "GB206", "570.123.10"),
)

# [MIG] "Supported GPUs": the compute capabilities of every product with MIG (A100/A30 8.0, H100/H200 9.0,
# B200 10.0, RTX PRO 6000 Blackwell 12.0). A GPU of another capability (an RTX 3090's 8.6, any Ada card's
# 8.9), or of an architecture none of whose capabilities is here, has no MIG.
MIG_COMPUTE_CAPABILITIES: tuple[tuple[int, int], ...] = ((8, 0), (9, 0), (10, 0), (12, 0))

# [CUDA] Table 3: the first build of each release (its GA, or 11.0.1 RC, the table's first 11.0
# row), and the oldest compute capability it builds for, from the last toolkits of [MATRIX]: CUDA
# 9.0 dropped Fermi (2.x), 11.0 Kepler's 3.0/3.2, 12.0 its 3.5/3.7 (also LLVM's CUDA notes,
# https://reviews.llvm.org/D152027), and 13.0 Maxwell, Pascal and Volta ([CUDA], "Deprecated
# Architectures": "Offline compilation and library support for these architectures have been
# removed in CUDA Toolkit 13.0").
CUDA_RELEASES: tuple[CudaRelease, ...] = (
    CudaRelease("7.0", "346.46", (2, 0)),
    CudaRelease("7.5", "352.31", (2, 0)),
    CudaRelease("8.0", "367.48", (2, 0)),
    CudaRelease("9.0", "384.81", (3, 0)),
    CudaRelease("9.1", "390.46", (3, 0)),
    CudaRelease("9.2", "396.26", (3, 0)),
    CudaRelease("10.0", "410.48", (3, 0)),
    CudaRelease("10.1", "418.39", (3, 0)),
    CudaRelease("10.2", "440.33", (3, 0)),
    CudaRelease("11.0", "450.36.06", (3, 5)),
    CudaRelease("11.1", "455.23", (3, 5)),
    CudaRelease("11.2", "460.27.03", (3, 5)),
    CudaRelease("11.3", "465.19.01", (3, 5)),
    CudaRelease("11.4", "470.42.01", (3, 5)),
    CudaRelease("11.5", "495.29.05", (3, 5)),
    CudaRelease("11.6", "510.39.01", (3, 5)),
    CudaRelease("11.7", "515.43.04", (3, 5)),
    CudaRelease("11.8", "520.61.05", (3, 5)),
    CudaRelease("12.0", "525.60.13", (5, 0)),
    CudaRelease("12.1", "530.30.02", (5, 0)),
    CudaRelease("12.2", "535.54.03", (5, 0)),
    CudaRelease("12.3", "545.23.06", (5, 0)),
    CudaRelease("12.4", "550.54.14", (5, 0)),
    CudaRelease("12.5", "555.42.02", (5, 0)),
    CudaRelease("12.6", "560.28.03", (5, 0)),
    CudaRelease("12.8", "570.26", (5, 0)),
    CudaRelease("12.9", "575.51.03", (5, 0)),
    CudaRelease("13.0", "580.65.06", (7, 5)),
    CudaRelease("13.1", "590.44.01", (7, 5)),
    CudaRelease("13.2", "595.45.04", (7, 5)),
)
