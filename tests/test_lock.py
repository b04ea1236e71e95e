"""requirements.lock is the contract of what `make sync`, `make test` and CI install.

The ranges in pyproject.toml are for people who install the wheel; the lock pins one exact,
hashed version of every package so that the suite's result does not depend on the day it
is installed. These tests keep the two in agreement and prove the running venv is the lock's.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
# `name==version ; marker \` then `    --hash=sha256:…` lines, then `    # via …`.
ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def locked() -> dict[str, tuple[str, str | None, int]]:
    """name -> (version, marker, number of hashes)."""
    out: dict[str, tuple[str, str | None, int]] = {}
    current = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = ENTRY.match(line)
        if match:
            current = canonicalize_name(match["name"])
            assert current not in out, f"{current} is locked twice"
            out[current] = (match["version"], match["marker"], 0)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            version, marker, hashes = out[current]
            out[current] = (version, marker, hashes + 1)
    return out


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    build = project["build-system"]["requires"]
    return [Requirement(r) for r in project["project"]["dependencies"]
            + project["project"]["optional-dependencies"]["test"] + build]


def test_every_declared_dependency_is_locked_at_a_version_its_range_allows():
    lock = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{name} is in pyproject.toml but not in requirements.lock: run `make lock`"
        version = lock[name][0]
        assert requirement.specifier.contains(version, prereleases=True), \
            (f"{name}=={version} in requirements.lock is outside pyproject.toml's {requirement.specifier}: "
             "run `make lock`")


def test_every_locked_package_is_pinned_with_hashes():
    lock = locked()
    assert len(lock) > 20
    for name, (version, _marker, hashes) in lock.items():
        assert hashes >= 1, f"{name}=={version} has no hash: pip --require-hashes would refuse the lock"


def test_the_running_environment_is_the_lock():
    """`make test` installed exactly the lock: each package this platform needs, at its locked version."""
    for name, (version, marker, _hashes) in sorted(locked().items()):
        if marker is not None and not Marker(marker).evaluate():
            continue
        installed = metadata.version(name)
        assert installed == version, f"{name} {installed} is installed, the lock says {version}: run `make sync`"
