"""AMD: the vendor row and one row per GPU architecture (psot names them as detect writes them).

psot does not judge AMD drivers, so the driver columns are None; AMD GPUs
have no CUDA compute capability, and psot knows no PCI device ranges for
them (detect names them by gfx target or chip code name).

Sources, cited by the rows below:

- [LLVM] The LLVM AMDGPU processor table
  (https://llvm.org/docs/AMDGPUUsage.html#processors): each gfx target's
  generation.
- [PCI] pci.ids (https://pci-ids.ucw.cz/read/PC/1002): chip code names, Navi
  1x/2x/3x/4x for RDNA 1-4, Vega 10/20, Arcturus (MI100), Aldebaran (MI200),
  Aqua Vanjaram (MI300).
- [KMOD] Linux drivers/gpu/drm/amd/amdgpu/Kconfig: Southern and Sea Islands
  (GCN 1 and 2) "already supported in radeon"; later GPUs, all of these
  rows, have amdgpu alone.
"""

from __future__ import annotations

from generator.hardware.rows import Architecture, Vendor

VENDOR = Vendor(
    key="amd",
    name="AMD",
    pci_vendor_id="1002",                     # [PCI]
    # ROCm device plugin for Kubernetes (https://github.com/ROCm/k8s-device-plugin).
    kubernetes_resource="amd.com/gpu",
    # AMD Container Toolkit, "Running Workloads" (https://instinct.docs.amd.com/projects/container-toolkit/
    # en/latest/container-runtime/running-workloads.html): CDI, its recommended injection path,
    # `--device amd.com/gpu=<entry>`, entries by ROCm index. Docker's CDI driver ignores
    # `capabilities`, which Compose still requires.
    cdi_kind="amd.com/gpu",
    cdi_device="{index}",
    compose_driver="cdi",
    host_modules=("amdgpu", "radeon"),        # [KMOD]: radeon claims the GCN 1/2 cards amdgpu does not
    always_blacklisted=(),
)


def _arch(name: str, display: str, gfx: tuple[str, ...], chips: tuple[str, ...]) -> Architecture:
    return Architecture(vendor="amd", name=name, display=display, chips=chips, gfx_prefixes=gfx,
                        compute_capability=None, pci_devices=(), minimum_driver=None, recommended_driver=None,
                        last_driver_branch=None, kernel_modules=("amdgpu",))


# gfx prefixes: [LLVM] (gfx90a is CDNA 2 and gfx908 CDNA, other gfx90x Vega: the longest prefix wins).
# Chips: [PCI]. Kernel modules: [KMOD].
ARCHITECTURES: tuple[Architecture, ...] = (
    _arch("vega", "Vega", ("gfx90",), (r"Vega ?(10|20)",)),
    _arch("cdna", "CDNA", ("gfx908",), (r"Arcturus",)),
    _arch("cdna2", "CDNA 2", ("gfx90a",), (r"Aldebaran",)),
    _arch("cdna3", "CDNA 3", ("gfx94",), (r"Aqua Vanjaram",)),
    _arch("cdna4", "CDNA 4", ("gfx950",), ()),
    _arch("rdna", "RDNA", ("gfx101",), (r"Navi ?1\d",)),
    _arch("rdna2", "RDNA 2", ("gfx103",), (r"Navi ?2\d",)),
    _arch("rdna3", "RDNA 3", ("gfx11",), (r"Navi ?3\d",)),
    _arch("rdna3-5", "RDNA 3.5", ("gfx115",), ()),
    _arch("rdna4", "RDNA 4", ("gfx12",), (r"Navi ?4\d",)),
)
