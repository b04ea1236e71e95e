"""Smoke test of the benchmark harness (`python -m bench`, bench/README.md).

It proves the harness runs end to end on the small inputs and prints its
table; it asserts nothing about timings (those depend on the machine).
"""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

SMALL_INPUTS = ("anklume-10x10", "compose-100w-10g")
STAGE_COLUMNS = ("load ms", "validate ms", "place ms", "render ms", "write ms", "resync ms", "e2e ms")


def test_bench_small_runs_and_prints_a_row_per_input(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "small", "--repeat", "1", "--out", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    lines = result.stdout.splitlines()
    header = next((line for line in lines if line.startswith("input ")), None)
    assert header is not None, result.stdout
    for column in STAGE_COLUMNS:
        assert column in header, f"no column {column!r} in {header!r}"
    for name in SMALL_INPUTS:
        rows = [line for line in lines if line.split(" ", 1)[0] == name]
        assert len(rows) == 1, f"expected one row for {name}:\n{result.stdout}"
        # input, bytes (number + unit), consumers, GPUs, files, then one time per stage
        assert len(rows[0].split()) == 6 + len(STAGE_COLUMNS), rows[0]
        assert (tmp_path / name / "infra.yml").is_file()
