"""A host's GPUs together draw more than 80% of its power supply (`tdp_watts` against `psu_watts`).

A power supply is sized with headroom: the rest of the machine and the
GPUs' transient spikes need the last fifth: an RTX 5070 Ti (~285 W) and a
GTX 970 (~145 W) draw 430 W together, under the 600 W mark of a 750 W
supply. Only GPUs with `tdp_watts` count; a host without
`psu_watts` is not checked.

Fix::

    Fit a larger power supply (and update `psu_watts`), lower the GPUs' power
    limits (`nvidia-smi -pl`) and their `tdp_watts`, or move a GPU to another
    host.

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        psu_watts: 750
        gpus:
          rtx-5070-ti: {vendor: nvidia, model: GeForce RTX 5070 Ti, vram_gb: 16, tdp_watts: 285}
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, tdp_watts: 145}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      pve:
        psu_watts: 750
        gpus:
          rtx-5090: {vendor: nvidia, model: GeForce RTX 5090, vram_gb: 32, tdp_watts: 575}
          gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, tdp_watts: 145}

Finding::

    infra.yml:6:16: warning[PWR001] pve: the GPUs draw 720 W together (rtx-5090 575 W, gtx-970 145 W), more than 80% of the 750 W power supply (600 W); fit a larger PSU or lower the GPUs' power limits
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.placement.core import fmt_gb
from generator.rules.base import Context, Problem

CODE = "PWR001"
SEVERITY = "warning"
STAGE = "model"

SHARE = 0.8   # of the PSU rating the GPUs may take


def check(ctx: Context) -> Iterator[Problem]:
    for host in ctx.infra.hosts.values():
        psu = host.psu_watts
        if psu is None:
            continue
        gpus = host.listed
        counted = [(g.name, g.tdp_watts) for g in gpus if g.tdp_watts is not None]
        total = sum(watts for _, watts in counted)
        if total <= SHARE * psu:
            continue
        parts = ", ".join(f"{name} {fmt_gb(watts)} W" for name, watts in counted)
        unknown = [g.name for g in gpus if g.tdp_watts is None]
        if unknown:
            parts += f"; not counted, no tdp_watts: {', '.join(unknown)}"
        yield Problem(f"{host.name}: the GPUs draw {fmt_gb(total)} W together ({parts}), more than 80% of the "
                      f"{fmt_gb(psu)} W power supply ({fmt_gb(SHARE * psu)} W); fit a larger PSU or lower the GPUs' "
                      "power limits", host.path + ("psu_watts",))
