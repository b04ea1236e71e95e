"""Intel: the vendor row and one row per discrete GPU architecture (as detect names them).

psot does not judge Intel drivers, so the driver columns are None; Intel GPUs
have no CUDA compute capability, and psot knows no PCI device ranges for
them (detect names them by chip code name).

Sources, cited by the rows below:

- [PCI] pci.ids (https://pci-ids.ucw.cz/read/PC/8086): DG2 (Arc A-series,
  Alchemist), BMG (Arc B-series, Battlemage).
- [KMOD] Linux drivers/gpu/drm/xe/Kconfig: "Driver for Intel Xe2 series GPUs
  and later. Experimental support for Xe series is also available"; i915
  drives Alchemist (Xe-HPG); "Lunar Lake, Battlemage, and newer Intel
  graphics cards are Xe2 and require the Xe driver"
  (https://github.com/freebsd/drm-kmod/issues/316).
- [PLUGIN] Intel GPU device plugin for Kubernetes
  (https://intel.github.io/intel-device-plugins-for-kubernetes/cmd/gpu_plugin/README.html):
  `gpu.intel.com/i915` for GPUs on i915, `gpu.intel.com/xe` for GPUs on xe.
"""

from __future__ import annotations

from generator.hardware.rows import Architecture, Vendor

VENDOR = Vendor(
    key="intel",
    name="Intel",
    pci_vendor_id="8086",                     # [PCI]
    # [PLUGIN]: the i915 resource, what psot requests for every Intel GPU; a GPU on xe registers
    # gpu.intel.com/xe instead (not yet told apart: issue 15).
    kubernetes_resource="gpu.intel.com/i915",
    # Intel's cdi-specs-generator (https://github.com/intel/intel-resource-drivers-for-kubernetes),
    # `--naming classic`: one device per /dev/dri/cardN, named cardN.
    cdi_kind="intel.com/gpu",
    cdi_device="card{index}",
    compose_driver="cdi",
    host_modules=("i915", "xe"),              # [KMOD]
    always_blacklisted=(),
)


def _arch(name: str, display: str, chips: tuple[str, ...], modules: tuple[str, ...]) -> Architecture:
    return Architecture(vendor="intel", name=name, display=display, chips=chips, gfx_prefixes=(),
                        compute_capability=None, pci_devices=(), minimum_driver=None, recommended_driver=None,
                        last_driver_branch=None, kernel_modules=modules)


# Chips: [PCI]. Kernel modules: [KMOD] (xe on Alchemist is the experimental Xe support).
ARCHITECTURES: tuple[Architecture, ...] = (
    _arch("alchemist", "Alchemist", (r"^DG2\b",), ("i915", "xe")),
    _arch("battlemage", "Battlemage", (r"^(Battlemage|BMG)\b",), ("xe",)),
)
