"""Where the files that ship with psot (schemas/, templates/) are found."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The `schemas` or `templates` directory.

    An installed wheel carries them inside the package (pyproject.toml maps
    them there); a source checkout or an editable install has them at the
    top of the repository, next to the package.
    """
    packaged = _PACKAGE / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name
