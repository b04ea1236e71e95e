"""A Kubernetes label or taint key's prefix (before `/`) is a DNS subdomain of at most 253 characters.

A label key, and a taint key, is a name of at most 63 characters with an
optional prefix: a DNS subdomain and `/` (`nvidia.com/gpu.product`). The
schema checks the shape of both parts and the name's length; the API
server also refuses a prefix longer than 253 characters, which would let
`kubectl label` or `kubectl taint` fail half-way through an apply.

Kubernetes documentation, "Labels and Selectors", Syntax and character
set; apimachinery's IsQualifiedName (DNS1123SubdomainMaxLength = 253).

Fix::

    Shorten the prefix to at most 253 characters (a domain you own, e.g.
    `gpu.example.com/`).

Passing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      khelben:
        platform: kubernetes
        labels: {gpu.example.com/tier: fast}

Failing::

    project_name: homelab
    global: {}
    domains: {}
    hosts:
      khelben:
        platform: kubernetes
        labels:
          aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com/tier: fast

Finding::

    infra.yml:8:7: error[K8S005] host 'khelben' label key 'aaaaaaaaaaaaaaaaaaaa…aaa.example.com/tier': its prefix has 267 characters, Kubernetes allows at most 253; shorten it
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem

CODE = "K8S005"
SEVERITY = "error"
STAGE = "model"

PREFIX_MAX = 253
SHOWN = 20        # characters of a long key shown at each end of the message


def _shown(key: str) -> str:
    return key if len(key) <= 2 * SHOWN + 1 else f"{key[:SHOWN]}…{key[-SHOWN:]}"


def _too_long(key: str) -> int | None:
    """The prefix's length when it is over the limit, else None."""
    if "/" not in key:
        return None
    prefix = key.split("/", 1)[0]
    return len(prefix) if len(prefix) > PREFIX_MAX else None


def check(ctx: Context) -> Iterator[Problem]:
    for host in ctx.infra.hosts.values():
        for key in host.labels:
            length = _too_long(key)
            if length is not None:
                yield Problem(f"host '{host.name}' label key '{_shown(key)}': its prefix has {length} characters, "
                              f"Kubernetes allows at most {PREFIX_MAX}; shorten it",
                              host.path + ("labels", key), at="key")
        for taint in host.taints:
            length = _too_long(taint.key)
            if length is not None:
                yield Problem(f"host '{host.name}' taint key '{_shown(taint.key)}': its prefix has {length} "
                              f"characters, Kubernetes allows at most {PREFIX_MAX}; shorten it", taint.path + ("key",))
