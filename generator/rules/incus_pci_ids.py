"""A GPU device selects its card one way: `pci` excludes `id`, `vendorid` and `productid`; `id` excludes `vendorid` and `productid`.

incusd refuses such a device only when the profile or instance is created,
halfway through an apply; psot says so before anything is applied. An
empty value counts as unset, as in Incus.

Incus documentation, GPU devices: `pci`, `id`, `vendorid`, `productid` select the card; incusd: Cannot use "vendorid" when "pci" is set.

Fix::

    Select the card one way: `pci` alone, `id` alone, or `vendorid` with
    `productid`.

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          gpu-passthrough:
            devices:
              gpu: {type: gpu, pci: "0000:01:00.0"}
        machines:
          llm-vm: {type: vm, profiles: [default, gpu-passthrough]}

Failing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          gpu-passthrough:
            devices:
              gpu: {type: gpu, pci: "0000:01:00.0", vendorid: 10de}
        machines:
          llm-vm: {type: vm, profiles: [default, gpu-passthrough]}

Finding::

    infra.yml:8:49: error[INC004] profile 'gpu-passthrough' device 'gpu': vendorid cannot be combined with pci, and Incus would refuse the device at apply time; pci already names one card: remove vendorid
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "INC004"
SEVERITY = "error"
STAGE = "model"

# The selector that names one card, and the selectors Incus refuses beside it.
EXCLUSIVE = (("pci", ("id", "vendorid", "productid")), ("id", ("vendorid", "productid")))


def check(ctx: Context) -> Iterator[Problem]:
    for device in ctx.infra.gpu_devices:
        reported = set()
        for selector, others in EXCLUSIVE:
            if device.option(selector) is None:
                continue
            for key in others:
                if key in reported or device.option(key) is None:
                    continue
                reported.add(key)
                yield Problem(f"{device.label}: {key} cannot be combined with {selector}, and Incus would refuse "
                              f"the device at apply time; {selector} already names one card: remove {key}",
                              device.path + (key,), at="key")
