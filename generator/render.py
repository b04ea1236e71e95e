"""Render stage: placement + model -> the in-memory tree {relative path: bytes}.

Each platform in the registry (generator/platforms) names its renderer: a
`render(infra, placement)` function that returns `{relative path: data}`,
YAML data (dicts, lists) or a `serialize.TextFile`, every path in the
platform's folder. This module runs the renderer of every target,
serialises the data and adds `placement.yml`. Renderers never read files,
print, or decide placement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from generator.model.core import Infra
from generator.placement.core import Placement
from generator.platforms import PLATFORMS, load
from generator.serialize import file_bytes
from generator.workspace.incremental import RenderMemo

Renderer = Callable[[Infra, Placement], Mapping[str, Any]]

_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_relpath(path: str) -> str:
    """Refuse a generated path that could leave the output directory.

    Names are validated by the schema before they get here; this is the last
    line of defence, so a bug cannot turn into a write outside generated/.
    """
    parts = path.split("/")
    if not path or any(not _SAFE_PART.fullmatch(p) or p in (".", "..") for p in parts):
        raise ValueError(f"unsafe generated path: {path!r}")
    return path


def render(infra: Infra, placement: Placement, source: str, memo: RenderMemo | None = None) -> dict[str, bytes]:
    """The tree; `memo` gives the bytes of data it has serialised before (workspace/incremental.py)."""
    to_bytes = file_bytes if memo is None else memo.file_bytes
    tree: dict[str, bytes] = {"placement.yml": to_bytes(placement.to_dict(with_locations=False), source)}
    for target in infra.targets:
        renderer = cast(Renderer, load(PLATFORMS[target].render))
        for path, data in renderer(infra, placement).items():
            tree[check_relpath(path)] = to_bytes(data, source)
    return dict(sorted(tree.items()))
