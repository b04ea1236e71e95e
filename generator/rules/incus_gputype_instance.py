"""A GPU device's `gputype` suits the instance: `mdev`, `sriov`, `native-context` only on VMs, `mig` only on containers.

A device in a profile is checked against every machine of its domain that
uses the profile (and does not override the device with one of the same
name, as Incus does): one finding per machine. A machine without `type` is
a container (`lxc`, AnKLuMe's default).

Incus documentation, GPU devices: "mdev (VM only)", "mig (container only)", "sriov (VM only)", "native-context (VM only)"; incusd rejects the device otherwise.

Fix::

    Change the machine's `type` as the message says, or give the device a
    `gputype` that suits the instance: `physical` works on both.

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          vgpu:
            devices:
              gpu: {type: gpu, gputype: mdev, mdev: nvidia-63}
        machines:
          llm-vm: {type: vm, profiles: [default, vgpu]}

Failing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          vgpu:
            devices:
              gpu: {type: gpu, gputype: mdev, mdev: nvidia-63}
        machines:
          llm-ct: {type: lxc, profiles: [default, vgpu]}

Finding::

    infra.yml:8:37: error[INC002] profile 'vgpu' device 'gpu': gputype 'mdev' works only on VMs, but machine 'llm-ct', which uses the profile, is a container (type: lxc); set type: vm on llm-ct
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model.incus import CONTAINER_ONLY, VM_ONLY, GpuDevice
from generator.rules.base import Context, Problem

CODE = "INC002"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for domain in ctx.infra.domains.values():
        for machine in domain.machines.values():
            for device in machine.expanded_gpu_devices:
                problem = _mismatch(device, machine.name, machine.type, machine.type_written)
                if problem:
                    yield Problem(problem, device.path + ("gputype",))


def _mismatch(device: GpuDevice, machine: str, kind: str, explicit: bool) -> str | None:
    gputype = device.gputype
    if device.owner == "profile":
        subject, where = f"machine '{machine}', which uses the profile,", f" on {machine}"
    else:
        subject, where = machine, ""
    written = f"type: {kind}" + ("" if explicit else ", the default")
    if gputype in VM_ONLY and kind != "vm":
        return (f"{device.label}: gputype '{gputype}' works only on VMs, but {subject} is a container ({written}); "
                f"set type: vm{where}")
    if gputype in CONTAINER_ONLY and kind == "vm":
        return (f"{device.label}: gputype '{gputype}' works only on containers, but {subject} is a VM ({written}); "
                f"set type: lxc{where}, or give the VM an mdev or sriov GPU instead")
    return None
