"""Reading the JSON that rocm-smi and amd-smi print, which may follow warning lines.

Both tools can print a line such as `WARNING: AMD GPU device(s) is/are in a
low-power state` before the document; the JSON starts at the first line
that opens with `{` or `[`. Key spellings changed across ROCm versions
(`Card series` / `Card Series`), so lookups ignore case and spacing.
"""

from __future__ import annotations

import json
import re
from typing import Any

_OPEN = re.compile(r"^[ \t]*[\[{]", re.MULTILINE)


def start(text: str) -> int | None:
    """Offset of the JSON document in `text`, or None."""
    match = _OPEN.search(text)
    return match.start() if match else None


def load(text: str) -> tuple[Any, int, str | None, tuple[int, int]]:
    """(data, first line of the document, error message or None, (line, column) of the error)."""
    offset = start(text)
    if offset is None:
        return None, 1, "no JSON document", (1, 1)
    first_line = text.count("\n", 0, offset) + 1
    try:
        return json.loads(text[offset:]), first_line, None, (first_line, 1)
    except json.JSONDecodeError as exc:
        return None, first_line, exc.msg, (first_line + exc.lineno - 1, exc.colno)
    except RecursionError:
        return None, first_line, "JSON nested too deeply", (first_line, 1)
    except ValueError as exc:      # e.g. an integer longer than Python converts (4300 digits)
        return None, first_line, str(exc)[:80], (first_line, 1)


def key(name: str) -> str:
    """`VRAM Total Memory (B)` and `vram total memory (b)` look the same."""
    return " ".join(name.replace("_", " ").split()).lower()


def fold(mapping: Any) -> dict[str, Any]:
    """A mapping with its keys folded by `key`; an empty one for anything else."""
    if not isinstance(mapping, dict):
        return {}
    return {key(k): v for k, v in mapping.items() if isinstance(k, str)}
