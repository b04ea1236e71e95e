"""The row types of psot's hardware tables: a vendor, a GPU architecture, a SKU, a CUDA release.

The vendor modules (nvidia.py, amd.py, intel.py) fill them, one row per fact
holder, each fact with its source; tables.py looks them up. A column that
does not apply to a vendor is empty (`()`) or None, and a None that means
"not confirmed" says so in the row's comment. Versions are written as
vendors print them ("570.86.16") and compare numerically field by field
(tables.version), so "575" means any 575.x.
"""

from __future__ import annotations

from dataclasses import dataclass

ComputeCapability = tuple[int, int]


@dataclass(frozen=True)
class Vendor:
    key: str                           # as infra.yml's `vendor` writes it: nvidia, amd, intel
    name: str                          # as the vendor writes itself: NVIDIA
    pci_vendor_id: str                 # 4 lower-case hex digits, as lspci -nn prints it: 10de
    kubernetes_resource: str           # the extended resource its device plugin registers
    cdi_kind: str                      # the CDI `kind` of its container toolkit's specs
    cdi_device: str | None             # its CDI device names, `{index}` the driver index; None: Compose
                                       # does not use CDI for this vendor (see compose_driver)
    compose_driver: str                # `deploy.resources.reservations.devices[].driver`
    host_modules: tuple[str, ...]      # host kernel modules that claim its GPUs (vfio: softdep or blacklist)
    always_blacklisted: tuple[str, ...]  # host kernel modules blacklisted whenever one of its GPUs is passed through

    def compose_device_id(self, index: int | None) -> str:
        """A Compose `device_ids` entry: the CDI device name, or the driver index where Compose
        selects the GPU through the vendor's own runtime driver."""
        if self.cdi_device is None:
            return str(index)
        return f"{self.cdi_kind}={self.cdi_device.format(index=index)}"


@dataclass(frozen=True)
class Architecture:
    vendor: str                        # Vendor.key
    name: str                          # as infra.yml's `architecture` writes it: ada
    display: str                       # as the vendor names it (and nvidia-smi prints it): Ada Lovelace
    chips: tuple[str, ...]             # regular expressions searched in a chip code name (pci.ids, lspci)
    gfx_prefixes: tuple[str, ...]      # AMD: LLVM gfx targets starting so (the longest match wins)
    compute_capability: tuple[ComputeCapability, ComputeCapability] | None  # NVIDIA: lowest, highest
    pci_devices: tuple[tuple[int, int], ...]  # PCI device ID ranges (inclusive) of its chips
    minimum_driver: str | None         # below it the GPU cannot work; None: psot does not judge its driver
    recommended_driver: str | None     # below it the GPU works, degraded; set whenever minimum_driver is
    last_driver_branch: int | None     # NVIDIA: the last branch that supports it (580 = R580);
                                       # None: the newest branches still do
    kernel_modules: tuple[str, ...]    # what can drive it: for NVIDIA the flavours of nvidia.ko
                                       # ("open", "proprietary"), else the kernel modules


@dataclass(frozen=True)
class Sku:
    """A product where its architecture's row is not enough: its own minimum driver, or MIG."""
    vendor: str                        # Vendor.key
    device: int                        # PCI device ID
    name: str
    architecture: str                  # Architecture.name
    chip: str | None                   # GB203: products of one chip share its first driver
    minimum_driver: str | None         # the first driver that lists this product; None: the architecture's
    mig_instances: int | None          # most MIG instances; None: no MIG
    mig_minimum_driver: str | None     # the first driver with MIG on it; set whenever mig_instances is


@dataclass(frozen=True)
class CudaRelease:
    version: str                       # 12.8
    minimum_driver: str                # Linux x86_64 driver of the release's first build
    lowest_compute_capability: ComputeCapability  # the oldest GPUs it still builds for
