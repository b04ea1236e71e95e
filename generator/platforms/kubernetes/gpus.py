"""How a pod asks for a GPU: the device plugin's extended resource, or a DRA device selected by CEL.

Device plugins advertise a count per node (`nvidia.com/gpu`, `amd.com/gpu`,
`gpu.intel.com/i915`, or `gpu.intel.com/xe` for an Intel GPU on the xe
kernel driver: the Intel GPU plugin names the resource after the driver,
https://github.com/intel/intel-device-plugins-for-kubernetes,
cmd/gpu_plugin/README.md). The kubelet picks which GPU of the node a pod
gets, so psot's choice between two GPUs of one node behind the same
resource is not enforced.

Dynamic Resource Allocation (resource.k8s.io/v1, Kubernetes 1.34) lets a
claim select the device by the attributes its DRA driver publishes in its
ResourceSlices; the scheduler allocates exactly that device. Per vendor:

- NVIDIA (github:NVIDIA/k8s-dra-driver-gpu, cmd/gpu-kubelet-plugin/deviceinfo.go
  `Attributes`): DeviceClass `gpu.nvidia.com`, attribute `uuid` (`GPU-…`), and
  the standard `resource.kubernetes.io/pciBusID` (`0000:01:00.0`, the
  inventory's `pci` form, from
  k8s.io/dynamic-resource-allocation/deviceattribute, pci_linux.go).
- AMD (github:ROCm/k8s-gpu-dra-driver, docs/driver-attributes.md):
  DeviceClass `gpu.amd.com`, attribute `pciAddr` (the sysfs address,
  `0000:19:00.0`) with `type` `amdgpu` for the whole GPU (a partition,
  `amdgpu-partition`, carries its parent's `pciAddr`).
- Intel (github:intel/intel-resource-drivers-for-kubernetes, doc/gpu/USAGE.md
  and deployments/gpu/base/device-class.yaml): DeviceClass `gpu.intel.com`,
  the standard `resource.kubernetes.io/pciBusID` (its own `pciAddress` is
  deprecated there).

psot pins by NVIDIA's `uuid` when the inventory has it, else by the PCI
address; a GPU with neither can only be asked for by class (rule K8S009).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.hardware import tables
from generator.model.core import Gpu

XE_RESOURCE = "gpu.intel.com/xe"
STANDARD_ATTRIBUTES = "resource.kubernetes.io"


def device_plugin_resource(gpu: Gpu) -> str:
    """The extended resource the vendor's device plugin advertises the GPU as."""
    if gpu.vendor == "intel" and gpu.driver_in_use == "xe":
        return XE_RESOURCE
    return tables.vendor(gpu.vendor).kubernetes_resource


@dataclass(frozen=True)
class DraDriver:
    device_class: str           # the DeviceClass the driver installs, also its driver name
    by_uuid: bool               # it publishes the NVIDIA UUID as `uuid`
    pci: tuple[str, str]        # (attribute domain, name) of the PCI address
    whole: str | None = None    # CEL that keeps whole GPUs (not partitions) when the address is shared


DRA_DRIVERS = {
    "nvidia": DraDriver("gpu.nvidia.com", True, (STANDARD_ATTRIBUTES, "pciBusID")),
    "amd": DraDriver("gpu.amd.com", False, ("gpu.amd.com", "pciAddr"),
                     'device.attributes["gpu.amd.com"].type == "amdgpu"'),
    "intel": DraDriver("gpu.intel.com", False, (STANDARD_ATTRIBUTES, "pciBusID")),
}


def dra_selector(gpu: Gpu) -> str | None:
    """The CEL expression that selects exactly this GPU, or None when the inventory has nothing to pin it by."""
    driver = DRA_DRIVERS[gpu.vendor]
    # The schema's patterns for uuid and pci leave no quote or backslash to escape in a CEL string.
    if driver.by_uuid and gpu.uuid:
        return f'device.attributes["{driver.device_class}"].uuid == "{gpu.uuid}"'
    if gpu.pci is None:
        return None
    domain, name = driver.pci
    expression = f'device.attributes["{domain}"].{name} == "{gpu.pci}"'
    return f"{driver.whole} && {expression}" if driver.whole else expression


def pinned_by(gpu: Gpu) -> str:
    """What the selector pins the GPU by, for messages: `uuid GPU-…` or `PCI address 0000:01:00.0`."""
    if DRA_DRIVERS[gpu.vendor].by_uuid and gpu.uuid:
        return f"uuid {gpu.uuid}"
    return f"PCI address {gpu.pci}"
