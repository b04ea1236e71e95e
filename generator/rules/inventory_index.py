"""Each GPU of a host has a driver index of its own among the GPUs of its vendor.

`index` is the number the vendor's driver gives the card (nvidia-smi's GPU
number, ROCm's): Compose selects GPUs by it (`device_ids`). Two GPUs of one
vendor on one host with one index are one card to the driver, so two
services placed on "different" GPUs would share it. The numbering is per
vendor: an NVIDIA GPU 0 and an AMD GPU 0 are two cards.

Fix::

    Give each GPU the index its driver shows (`nvidia-smi -L`, `rocm-smi`, or
    `psot detect`), or remove the entry that lists a card twice.

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
          rx-7900: {vendor: amd, vram_gb: 24, index: 0}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
          rtx-3090: {vendor: nvidia, vram_gb: 24, index: 0}

Finding::

    infra.yml:9:54: error[INV002] ws/rtx-3090 has nvidia index 0, as ws/rtx-4090 has: the driver numbers each card once; give each GPU the index its driver shows
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "INV002"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for host in ctx.infra.hosts.values():
        first: dict[tuple[str, int], str] = {}
        for gpu in host.listed:
            index, vendor = gpu.index, gpu.vendor
            if index is None:
                continue
            if (vendor, index) in first:
                yield Problem(f"{gpu.key} has {vendor} index {index}, as {host.name}/{first[vendor, index]} has: "
                              "the driver numbers each card once; give each GPU the index its driver shows",
                              gpu.path + ("index",))
            else:
                first[vendor, index] = gpu.name
