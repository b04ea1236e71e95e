"""A fifth platform that exists only in the tests: `target: toy`, run by a `toyctl` on `platform: toybox` hosts.

tests/platforms/test_registry.py registers it (one entry in PLATFORMS) and
compiles an infra.yml that uses it end to end: this package plus that entry
is all a platform takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAME = "toy"
HOST_PLATFORMS: tuple[str | None, ...] = ("toybox",)
HOSTS = "the toy hosts (platform: toybox)"
WORKLOADS = True
RENDER = "tests.platforms.toy.render:render"
UNITS = "tests.platforms.toy.apply:units"
PROGRAMS = "tests.platforms.toy.apply:programs"
DRIFT: str | None = None    # what changed by hand is not read back from it


def is_vm(spec: Mapping[str, Any]) -> bool:
    return False


def passthrough_default(spec: Mapping[str, Any]) -> bool:
    return False
