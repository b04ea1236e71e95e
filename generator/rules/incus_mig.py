"""A `mig` GPU device names its MIG instance (`mig.uuid`, or both `mig.gi` and `mig.ci`); an `mdev` device its `mdev` type.

`mig.uuid` and the `mig.gi`/`mig.ci` pair are two ways of naming the same
thing: Incus refuses a device that has both. An empty value counts as unset,
as in Incus.

Incus documentation, GPU devices: `mig` options `mig.uuid`, `mig.gi`, `mig.ci` ("Either mig.uuid or both mig.gi and mig.ci must be set"); `mdev` option `mdev` (required).

Fix::

    Name the MIG instance by `mig.uuid` alone, or by both `mig.gi` and `mig.ci`.
    Give an `mdev` device its `mdev` type (`incus info --resources` lists the
    types the card offers).

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          a100-slice:
            devices:
              gpu: {type: gpu, gputype: mig, pci: "0000:41:00.0", mig.gi: 1, mig.ci: 0}
        machines:
          llm: {type: lxc, profiles: [default, a100-slice]}

Failing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          a100-slice:
            devices:
              gpu: {type: gpu, gputype: mig, pci: "0000:41:00.0", mig.gi: 1}
        machines:
          llm: {type: lxc, profiles: [default, a100-slice]}

Finding::

    infra.yml:8:37: error[INC003] profile 'a100-slice' device 'gpu': gputype 'mig' has mig.gi but no mig.ci; add mig.ci, or name the MIG instance by mig.uuid alone
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model.incus import GpuDevice
from generator.rules.base import Context, Problem

CODE = "INC003"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for device in ctx.infra.gpu_devices:
        if device.gputype == "mig":
            yield from _mig(device)
        elif device.gputype == "mdev" and device.option("mdev") is None:
            yield Problem(f"{device.label}: gputype 'mdev' needs mdev, the vGPU type to create "
                          "(e.g. mdev: nvidia-63; `incus info --resources` lists a card's types)",
                          device.path + ("gputype",))


def _mig(device: GpuDevice) -> Iterator[Problem]:
    has = {key: device.option(key) is not None for key in ("mig.uuid", "mig.gi", "mig.ci")}
    if has["mig.uuid"]:
        for key in ("mig.gi", "mig.ci"):
            if has[key]:
                yield Problem(f"{device.label}: {key} cannot be combined with mig.uuid, which already names the "
                              f"MIG instance; remove {key}", device.path + (key,), at="key")
        return
    if has["mig.gi"] and has["mig.ci"]:
        return
    where = device.path + ("gputype",)
    if has["mig.gi"] or has["mig.ci"]:
        present, missing = ("mig.gi", "mig.ci") if has["mig.gi"] else ("mig.ci", "mig.gi")
        yield Problem(f"{device.label}: gputype 'mig' has {present} but no {missing}; add {missing}, or name "
                      "the MIG instance by mig.uuid alone", where)
    else:
        yield Problem(f"{device.label}: gputype 'mig' needs the MIG instance it passes: mig.uuid, or both "
                      "mig.gi and mig.ci (see nvidia-smi mig -lgi and -lci)", where)
