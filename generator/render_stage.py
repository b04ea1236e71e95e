"""Render stage: placement + model -> the in-memory tree {relative path: bytes}.

Each platform has one module here with `TARGET` (its name in
`global.targets`) and a `render(infra, placement)` function that returns
`{relative path: data}`: YAML data (dicts, lists) or a `serialize.TextFile`.
This module finds them, serialises the data and adds `placement.yml`.
Renderers never read files, print, or decide placement.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from typing import Any

from generator import platforms
from generator.model.core import Infra
from generator.placement.core import Placement
from generator.serialize import file_bytes, yaml_file

Renderer = Callable[[Infra, Placement], Mapping[str, Any]]


def _discover() -> dict[str, Renderer]:
    found: dict[str, Renderer] = {}
    for info in sorted(pkgutil.iter_modules(platforms.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{platforms.__name__}.{info.name}.render")
        target = getattr(module, "TARGET", None)
        if target is not None:
            found[target] = module.render
    return found


RENDERERS: dict[str, Renderer] = _discover()

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


def render(infra: Infra, placement: Placement, source: str) -> dict[str, bytes]:
    tree: dict[str, bytes] = {"placement.yml": yaml_file(placement.to_dict(with_locations=False), source)}
    for target in infra.targets:
        renderer = RENDERERS.get(target)
        if renderer is None:
            continue
        for path, data in renderer(infra, placement).items():
            tree[check_relpath(path)] = file_bytes(data, source)
    return dict(sorted(tree.items()))
