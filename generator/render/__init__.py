"""Render stage: placement + model -> the in-memory tree {relative path: bytes}.

Each platform has one module with a `render(infra, placement)` function that
returns `{relative path: data}`; this module serialises the data and adds
`placement.yml`. Renderers never read files, print, or decide placement.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from generator.model import Infra
from generator.placement import Placement
from generator.render import compose
from generator.serialize import yaml_file

Renderer = Callable[[Infra, Placement], Mapping[str, Any]]

# Targets whose renderer exists; SPEC §5 names incus, proxmox and kubernetes too.
RENDERERS: dict[str, Renderer] = {
    "compose": compose.render,
}

_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_relpath(path: str) -> str:
    """Refuse a generated path that could leave the output directory.

    Names are validated by the schema before they get here; this is the last
    line of defence, so a bug cannot turn into a write outside generated/.
    """
    parts = path.split("/")
    if not path or any(not _SAFE_PART.match(p) or p in (".", "..") for p in parts):
        raise ValueError(f"unsafe generated path: {path!r}")
    return path


def render(infra: Infra, placement: Placement, source: str) -> dict[str, bytes]:
    tree: dict[str, bytes] = {"placement.yml": yaml_file(placement.to_dict(with_locations=False), source)}
    for target in infra.targets:
        renderer = RENDERERS.get(target)
        if renderer is None:
            continue
        for path, data in renderer(infra, placement).items():
            tree[check_relpath(path)] = yaml_file(data, source)
    return dict(sorted(tree.items()))
