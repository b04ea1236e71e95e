"""A GPU device's `gputype` is `physical`, `mdev`, `mig`, `sriov` or `native-context` (missing: `physical`).

Incus does not reject an unknown `gputype`: it silently treats it as
`physical` and passes the whole card, so a typo would hand an instance a
GPU it was never meant to have. psot refuses the value instead.

Incus documentation, GPU devices: `physical` (the default), `mdev`, `mig`, `sriov`, `native-context` (virtio-gpu DRM native context, VM only; newer than Incus 6.0 LTS, which does not know it); incusd maps any other value to physical.

Fix::

    Set `gputype` to physical, mdev, mig, sriov or native-context (the
    message suggests the closest), or remove it to pass the whole card
    (physical).

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, gputype: physical}
        machines:
          gpu-server: {type: lxc, profiles: [default, nvidia-compute]}

Failing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, gputype: phisical}
        machines:
          gpu-server: {type: lxc, profiles: [default, nvidia-compute]}

Finding::

    infra.yml:8:37: error[INC001] profile 'nvidia-compute' device 'gpu': gputype 'phisical' is not physical, mdev, mig, sriov or native-context, and Incus would silently treat it as physical; did you mean 'physical'?
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model.incus import GPUTYPES
from generator.rules.base import Context, Problem, did_you_mean

CODE = "INC001"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for device in ctx.infra.gpu_devices:
        gputype = device.gputype
        if gputype in GPUTYPES:
            continue
        yield Problem(f"{device.label}: gputype '{gputype}' is not physical, mdev, mig, sriov or native-context, "
                      f"and Incus would silently treat it as physical" + did_you_mean(str(gputype), GPUTYPES),
                      device.path + ("gputype",))
