"""Shared helpers: run the real `psot` command and write infra.yml fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SEED_001 = EXAMPLES / "multi-gpu-compose" / "infra.yml"


def run_psot(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """`psot ARGS` as a user runs it, in a subprocess (exit code, stdout, stderr)."""
    full_env = dict(os.environ)
    full_env.pop("PSOT_DEBUG", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def infra_file(tmp_path: Path):
    """Write an infra.yml (dedented) into a fresh directory and return its path."""
    def write(text: str, name: str = "infra.yml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path
    return write


@pytest.fixture
def seed_001(tmp_path: Path) -> Path:
    """A private copy of the seed 001 example, free to edit."""
    path = tmp_path / "infra.yml"
    path.write_text(SEED_001.read_text(encoding="utf-8"), encoding="utf-8")
    return path
