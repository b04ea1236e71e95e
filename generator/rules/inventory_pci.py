"""Each GPU of a host is at a PCI address of its own: two entries at one address are one device.

A PCI address names one physical function. psot compares addresses as the
kernel prints them, lower case (`0000:0A:00.0` and `0000:0a:00.0` are one
address), so two GPU entries at one address are one card listed twice:
`exclusive` would hand that one device to two consumers, and passthrough
would bind it twice.

Fix::

    Keep one entry for the card, or correct the `pci` of the other GPU to its
    own address (`lspci -D` or `psot detect` prints them).

Passing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:0a:00.0"}
          rtx-3090: {vendor: nvidia, vram_gb: 24, index: 1, pci: "0000:0b:00.0"}

Failing::

    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:0A:00.0"}
          rtx-3090: {vendor: nvidia, vram_gb: 24, index: 1, pci: "0000:0a:00.0"}

Finding::

    infra.yml:9:62: error[INV001] ws/rtx-3090 is at PCI address 0000:0a:00.0, as ws/rtx-4090 is (0000:0A:00.0): one device cannot be two GPUs; remove one of them or correct its pci
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "INV001"
SEVERITY = "error"
STAGE = "model"


def check(ctx: Context) -> Iterator[Problem]:
    for host_name, host in ctx.infra.hosts.items():
        first: dict[str, tuple[str, str]] = {}
        # As written, not host.listed: the message quotes each address as infra.yml spells it (Gpu.pci is lower-cased).
        for gpu_name, spec in (host.spec.get("gpus") or {}).items():
            written = (spec or {}).get("pci")
            if not isinstance(written, str):
                continue
            address = written.lower()
            if address in first:
                other, other_written = first[address]
                yield Problem(f"{host_name}/{gpu_name} is at PCI address {written}, as {host_name}/{other} is "
                              f"({other_written}): one device cannot be two GPUs; remove one of them or correct "
                              "its pci", ("hosts", host_name, "gpus", gpu_name, "pci"))
            else:
                first[address] = (gpu_name, written)
