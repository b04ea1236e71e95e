"""The storage volumes of a domain are one set: a volume two machines declare has one size, and its device name is free.

A machine's `storage_volumes` become custom volumes of its domain's Incus
project, named by their key in their pool, and disk devices of that name on
the machine (AnKLuMe's incus_instances role). Two machines of a domain that
declare the same volume share it, so they must agree on its size; and its
device must not take the name of another device the machine has (`root`
and `eth0` of the default profile, a profile's or its own), which it would
silently replace: a volume called `root` would become the instance's root
disk.

Fix::

    Give the volumes different names, or the same `size` (and `pool`) in every
    machine that shares it; rename a volume whose name is one of the machine's
    devices.

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        machines:
          ollama:
            storage_volumes:
              models: {size: 200GiB, path: /root/.ollama}
          vllm:
            storage_volumes:
              models: {size: 200GiB, path: /models}

Failing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        machines:
          ollama:
            storage_volumes:
              models: {size: 200GiB, path: /root/.ollama}
          vllm:
            storage_volumes:
              models: {size: 100GiB, path: /models}

Finding::

    infra.yml:11:26: error[INC008] machine 'vllm': storage volume 'models' (pool default) of domain 'ai-tools' is also declared by machine 'ollama', with size 200GiB, not 100GiB; a volume shared by machines has one size: give both the same, or rename one
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.model.incus import expanded_devices
from generator.rules.base import Context, Problem

CODE = "INC008"
SEVERITY = "error"
STAGE = "model"

DEFAULT_DEVICES = ("root", "eth0")     # what psot's default profile holds (generator/platforms/incus/render.py)


def check(ctx: Context) -> Iterator[Problem]:
    glob = ctx.infra.data.get("global") or {}
    default_pool = ((glob.get("incus") or {}).get("storage_pool")) or "default"
    for domain_name, domain in (ctx.infra.data.get("domains") or {}).items():
        domain = domain or {}
        first: dict[tuple[str, str], tuple[str, Any]] = {}
        for machine_name, machine in sorted((domain.get("machines") or {}).items()):
            machine = machine or {}
            volumes = machine.get("storage_volumes") or {}
            taken = set(expanded_devices(domain_name, domain, machine_name, machine))
            if "default" in (machine.get("profiles") or ["default"]):
                taken.update(DEFAULT_DEVICES)
            for name, spec in sorted(volumes.items()):
                spec = spec or {}
                path = ("domains", domain_name, "machines", machine_name, "storage_volumes", name)
                if "path" in spec and name in taken:
                    yield Problem(f"machine '{machine_name}': storage volume '{name}' would be attached as device "
                                  f"'{name}', which the machine already has (its profiles' or its own); rename "
                                  "the volume", path, at="key")
                key = (str(spec.get("pool", default_pool)), name)
                if key not in first:
                    first[key] = (machine_name, spec.get("size"))
                    continue
                owner, size = first[key]
                if size != spec.get("size"):
                    yield Problem(f"machine '{machine_name}': storage volume '{name}' (pool {key[0]}) of domain "
                                  f"'{domain_name}' is also declared by machine '{owner}', with size {size or '(none)'}, "
                                  f"not {spec.get('size') or '(none)'}; a volume shared by machines has one size: "
                                  "give both the same, or rename one",
                                  path + (("size",) if "size" in spec else ()))
