"""Under `gpu_policy: exclusive`, two or more instances have access to the same GPU.

As AnKLuMe counts them: 0 or 1 GPU instance is fine; 2 or more is an error
under `exclusive` (the default). An instance has GPU access through `gpu: true`
(or a request mapping), a profile of its domain with a `type: gpu` device,
or a `gpu` device of its own. Without a `hosts` inventory all of them share
the one host GPU, as AnKLuMe counts; with one, `exclusive` means one
instance per physical GPU after placement, and the message names the GPU.
A GPU passed through to a VM is PASS001's concern.

Fix::

    Leave GPU access to one instance per GPU: remove `gpu: true` (or the GPU
    profile) from the others, or give them GPUs of their own in the inventory. To
    let instances share a GPU, set `global.gpu_policy: shared`; GPU002 then warns
    instead.

Passing::

    project_name: lab
    global: {gpu_policy: exclusive}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, gputype: physical}
        machines:
          gpu-server: {type: lxc, gpu: true, profiles: [default, nvidia-compute]}

Failing::

    project_name: lab
    global: {gpu_policy: exclusive}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, gputype: physical}
        machines:
          gpu-server: {type: lxc, gpu: true, profiles: [default, nvidia-compute]}
          work-gpu: {type: lxc, profiles: [default, nvidia-compute]}

Finding::

    infra.yml:11:7: error[GPU001] GPU policy is 'exclusive' but 2 instances have GPU access: gpu-server, work-gpu. Set global.gpu_policy: shared to allow this.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, gpu_groups, names

CODE = "GPU001"
SEVERITY = "error"
STAGE = "placement"


def check(ctx: Context) -> Iterator[Problem]:
    if ctx.infra.gpu_policy != "exclusive":
        return
    for key, group in gpu_groups(ctx):
        if len(group) < 2 or (key is not None and any(c.request.passthrough for c in group)):
            continue
        where = "" if key is None else f" on {ctx.infra.gpu_label(key)}"
        # The finding points at the second instance (by name, as listed): one that breaks the policy.
        yield Problem(f"GPU policy is 'exclusive' but {len(group)} instances have GPU access{where}: "
                      f"{names(group)}. Set global.gpu_policy: shared to allow this.", group[1].path, at="key")
