"""Under `gpu_policy: shared`, two or more instances share a GPU: allowed, with a warning.

Consumer GPUs have no VRAM isolation (no SR-IOV): one instance can exhaust
or read another's memory. Counted as GPU001 counts, except that a VM given
a card through vfio-pci shares nothing (the `shared` policy does not
concern VMs); with a `hosts` inventory, per physical GPU after placement.

Fix::

    Nothing has to change: sharing is what `shared` allows. To isolate the
    instances, give each a GPU of its own, or pass a card through to a VM; with
    `gpu_policy: exclusive` the sharing becomes an error (GPU001).

Passing::

    project_name: lab
    global: {gpu_policy: shared}
    domains:
      ai-tools:
        machines:
          llm-alpha-server: {type: lxc, gpu: true}

Failing::

    project_name: lab
    global: {gpu_policy: shared}
    domains:
      ai-tools:
        machines:
          llm-alpha-server: {type: lxc, gpu: true}
          llm-beta-server: {type: lxc, gpu: true}

Finding::

    infra.yml:7:7: warning[GPU002] GPU policy is 'shared': 2 instances share GPU access (llm-alpha-server, llm-beta-server). No VRAM isolation on consumer GPUs.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, gpu_groups, names

CODE = "GPU002"
SEVERITY = "warning"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    if ctx.infra.gpu_policy != "shared":
        return
    for key, group in gpu_groups(ctx):
        if key is None:
            # A VM with its own card through vfio shares nothing (seed 004: `shared` is irrelevant for VMs).
            group = [c for c in group if not c.request.passthrough]
        elif any(c.request.passthrough for c in group):
            continue  # PASS001
        if len(group) < 2:
            continue
        # Seed 004's words exactly; with an inventory, the GPU is named before the instances.
        who = f"({names(group)})" if key is None else f"on {ctx.infra.gpu_label(key)}: {names(group)}"
        yield Problem(f"GPU policy is 'shared': {len(group)} instances share GPU access {who}. "
                      "No VRAM isolation on consumer GPUs.", group[1].path, at="key")
