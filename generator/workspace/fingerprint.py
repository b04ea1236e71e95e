"""psot's own fingerprint: what psot contributes to a tree, for the records kept beside it.

The no-op record (cache.py) and the incremental caches (incremental.py) are keyed on it, so
that another psot (another line of code, schema or template, another PyYAML) never trusts them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
from pathlib import Path

import yaml

from generator import __version__
from generator.resources import data_dir

_SOURCES = (".py", ".json", ".j2")


@functools.cache
def fingerprint() -> str:
    """What psot itself contributes to a tree: its code, schemas and templates, and the
    versions of what turns data into text (Python's float repr, PyYAML and libyaml, Jinja2)."""
    h = hashlib.sha256()
    h.update(f"{__version__}\0{sys.version}\0{yaml.__version__}\0{yaml.__with_libyaml__}\0".encode())
    package = Path(__file__).resolve().parents[1]   # generator/
    for root in dict.fromkeys((package, data_dir("schemas"), data_dir("templates"))):
        for path in sorted(root.rglob("*")):
            if path.suffix in _SOURCES and "__pycache__" not in path.parts and path.is_file():
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    jinja = importlib.util.find_spec("jinja2")
    if jinja is not None and jinja.origin:
        h.update(Path(jinja.origin).read_bytes())  # its __init__.py names its version
    return h.hexdigest()
