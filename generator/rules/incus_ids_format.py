"""A GPU device's `vendorid` and `productid` are exactly 4 lower-case hex digits (e.g. `10de`).

Incus compares them as strings with what the kernel reports, so `10DE`
or `0x10de` would match no card; incusd refuses them. Quote IDs made only
of digits (`"1002"`, `"8086"`): unquoted, YAML reads them as numbers.

Incus documentation, GPU devices: `vendorid`, `productid` (the vendor and product ID of the GPU); incusd: "must be four lower case hex characters".

Fix::

    Write each ID as 4 lower-case hex digits, quoted: `vendorid: "10de"`.

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, vendorid: 10de}
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
              gpu: {type: gpu, vendorid: 10DE}
        machines:
          gpu-server: {type: lxc, profiles: [default, nvidia-compute]}

Finding::

    infra.yml:8:38: error[INC005] profile 'nvidia-compute' device 'gpu': vendorid '10DE' is not 4 lower-case hex digits; write '10de'
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "INC005"
SEVERITY = "error"
STAGE = "model"

_ID = re.compile(r"[0-9a-f]{4}")
_PAIR = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")


def check(ctx: Context) -> Iterator[Problem]:
    for device in ctx.infra.gpu_devices:
        for key in ("vendorid", "productid"):
            value = device.option(key)
            if value is None or _ID.fullmatch(value):
                continue
            yield Problem(f"{device.label}: {key} '{value}' is not 4 lower-case hex digits; {_fix(key, value)}",
                          device.path + (key,))


def _fix(key: str, value: str) -> str:
    pair = _PAIR.fullmatch(value)
    if pair:
        vendor, product = (part.lower() for part in pair.groups())
        return f"that is a vendor:product pair: write vendorid: '{vendor}' and productid: '{product}'"
    bare = value.lower().removeprefix("0x")
    if _ID.fullmatch(bare):
        return f"write '{bare}'"
    if key == "vendorid":
        return "write it as lspci -nn shows it, e.g. '10de' (NVIDIA), '1002' (AMD), '8086' (Intel)"
    return "write it as lspci -nn shows it after the vendor ID, e.g. '2c05' in [10de:2c05]"
