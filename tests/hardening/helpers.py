"""Shared by the hardening tests (issue 8): inputs, runs of the real `psot`, tree fingerprints.

Hypothesis settings come from two profiles: `psot-hardening` locally (random
examples, remembered failures) and `psot-hardening-ci` when CI=true
(derandomized, no example database), so a CI run is reproducible.
PSOT_FUZZ_EXAMPLES sets how many examples each property tries.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings

from tests.conftest import REPO

# PSOT_FUZZ_EXAMPLES=5000 runs a longer hunt locally; the default keeps `make test` fast.
settings.register_profile("psot-hardening", deadline=None,
                          max_examples=int(os.environ.get("PSOT_FUZZ_EXAMPLES", "150")),
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much])
settings.register_profile("psot-hardening-ci", settings.get_profile("psot-hardening"), derandomize=True,
                          database=None, print_blob=True)
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FUZZ = settings.get_profile("psot-hardening-ci" if CI else "psot-hardening")

# The inputs the fuzzers start from: every valid input the repository ships.
SEED_INPUTS = [REPO / "infra.yml"] + sorted(
    p for p in (REPO / "examples").rglob("infra.yml") if not {"blackwell-bringup", "flavour-conflict"} & set(p.parts))


def psot_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("PSOT_DEBUG", None)
    env.update(extra)
    return env


def run_psot(*args: str, cwd: Path | None = None, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=psot_env(**env),
                          capture_output=True, text=True, timeout=timeout)


@dataclass
class Measured:
    """A finished child process: exit code (negative: killed by that signal), output, peak RSS, wall time."""
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float
    seconds: float


def run_measured(args: list[str], cwd: Path, timeout: float = 60) -> Measured:
    """`psot ARGS` in a child whose own peak memory is read with wait4 (not the whole test run's)."""
    out, err = cwd / ".measured.out", cwd / ".measured.err"
    start = time.monotonic()
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=cwd, env=psot_env(),
                                stdout=fo, stderr=fe)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(proc.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"),
                    usage.ru_maxrss / 1024, time.monotonic() - start)


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file under `root` (psot's own .psot/ record included) -> SHA-256; symlinks by their target."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                found[rel] = "symlink:" + os.readlink(full)
            else:
                with open(full, "rb") as fh:
                    found[rel] = hashlib.sha256(fh.read()).hexdigest()
    return found


def leftovers(output_dir: Path) -> list[str]:
    """Staging or swapped-out trees a sync left beside `output_dir` (its lock file is meant to stay)."""
    return sorted(p.name for p in output_dir.parent.iterdir()
                  if p.name.startswith((f".{output_dir.name}.psot-new-", f".{output_dir.name}.psot-old-")))


def anklume_doc(domains: int, machines: int, variant: str = "", touched: tuple[int, ...] | None = None) -> dict:
    """An AnKLuMe-style infra.yml with one Incus instance file per machine (a large tree, cheaply).

    `variant` is written into the description of every machine of the domains in `touched` (all when
    None), so two variants differ in exactly those files and place their GPUs identically.
    """
    doc: dict[str, Any] = {
        "project_name": "hardening",
        "global": {"gpu_policy": "shared", "placement": {"strategy": "vram_based"}},
        "domains": {},
        "hosts": {"lab": {"platform": "incus", "gpus": {
            f"gpu-{i}": {"vendor": "nvidia", "vram_gb": 24, "pci": f"0000:0{i + 1}:00.0"} for i in range(2)}}},
    }
    for d in range(domains):
        note = variant if touched is None or d in touched else ""
        doc["domains"][f"dom-{d:02d}"] = {
            "description": f"domain {d}",
            "profiles": {"gpu": {"devices": {"gpu": {"type": "gpu", "gputype": "physical"}}}},
            "machines": {
                f"d{d:02d}-m{m:03d}": {
                    "description": f"machine {m} {note}".strip(),
                    "type": "lxc",
                    "config": {"limits.cpu": str(1 + m % 4)},
                    **({"gpu": True, "profiles": ["default", "gpu"]} if m == 0 else {"profiles": ["default"]}),
                } for m in range(machines)},
        }
    return doc


def write_doc(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
