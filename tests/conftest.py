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
    """`psot ARGS` as a user runs it, in a subprocess (exit code, stdout, stderr), with no terminal
    (stdin is /dev/null: a question psot asks is refused, never left waiting)."""
    full_env = dict(os.environ)
    full_env.pop("PSOT_DEBUG", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=full_env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


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


def run_psot_in_terminal(*args: str, cwd: Path | None = None, env: dict | None = None,
                         answer: str | None = None, timeout: float = 120) -> tuple[int, str]:
    """`psot ARGS` at a pseudo-terminal, as a person runs it: (exit code, everything the terminal showed).

    With `answer`, it is typed (then Enter) once psot asks `Enter a value:`.
    """
    import pty
    import select
    import time
    full_env = dict(os.environ)
    for name in ("PSOT_DEBUG", "NO_COLOR", "FORCE_COLOR"):
        full_env.pop(name, None)
    full_env.update({"TERM": "xterm-256color", "COLUMNS": "200"} | (env or {}))
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=cwd, env=full_env,
                            stdin=secondary, stdout=secondary, stderr=secondary, close_fds=True)
    os.close(secondary)
    output, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:   # the other side closed: the process has ended
                    break
                if not chunk:
                    break
                output += chunk
            if answer is not None and not answered and b"Enter a value:" in output:
                os.write(primary, answer.encode() + b"\r")
                answered = True
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    return code, output.decode("utf-8", "replace").replace("\r\n", "\n")
