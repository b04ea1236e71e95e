"""Smoke test of the benchmark harness (`python -m bench`, bench/README.md).

It proves the harness runs end to end on the small inputs and prints its
tables (speed targets, stages, placement per strategy, balanced quality);
it asserts nothing about timings (those depend on the machine).
"""

import subprocess
import sys
from pathlib import Path

from bench import __main__ as bench
from generator.placement import balance
from generator.placement.core import STRATEGY_NAMES

REPO_ROOT = Path(__file__).resolve().parent.parent

SMALL_INPUTS = ("anklume-10x10", "compose-100w-10g")
STAGE_COLUMNS = ("load ms", "validate ms", "place ms", "render ms", "write ms", "resync ms", "e2e ms")
PLACEMENT_COLUMNS = ("strategy", "place ms", "placed", "unplaced", "GPUs over", "util. variance",
                     "balance method", "variance", "lower bound", "gap")
QUALITY_COLUMNS = ("instances", "feasible", "proven", "exact mean ms", "exact max ms", "heur. optimal",
                   "mean gap", "max gap", "mean rel. gap", "max rel. gap", "brute-forced", "mismatches")


TARGET_TABLES = {  # a column of each speed-target table
    "sync/floor": ("files", "load floor ms", "dump floor ms", "floor ms", "sync ms", "target", "result"),
    "no-op/sync": ("sync ms", "no-op ms", "entries changed", "target", "result"),
    "us per machine": ("machines", "sync ms", "vs previous size", "target", "result"),
}


def _header(lines: list[str], start: str, containing: str = "") -> str:
    header = next((line for line in lines if line.startswith(start) and containing in line), None)
    assert header is not None, f"no line starting with {start!r} with {containing!r}:\n" + "\n".join(lines)
    return header


def test_bench_small_runs_and_prints_its_tables(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "small", "--repeat", "1", "--out", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    lines = result.stdout.splitlines()

    # Speed targets: psot as a subprocess against its floor, the no-op sync, cost per machine, validate.
    for marker, columns in TARGET_TABLES.items():
        header = _header(lines, "input  ", marker)
        for column in columns:
            assert column in header, f"no column {column!r} in {header!r}"
    noop_header = _header(lines, "input  ", "no-op/sync")
    for name in SMALL_INPUTS:
        at = lines.index(noop_header)
        row = next(line for line in lines[at:] if line.split(" ", 1)[0] == name)
        assert row.split()[4] == "0", f"the no-op sync changed files: {row}"
        assert row.split()[-1] == "info", row   # the targets are judged on the large inputs only
    validate = next((line for line in lines if line.startswith("psot validate infra.yml")), None)
    assert validate is not None and validate.split()[-1] in ("PASS", "FAIL"), result.stdout
    assert any(line.startswith("targets: ") for line in lines), result.stdout

    header = _header(lines, "input  ", "load ms")
    for column in STAGE_COLUMNS:
        assert column in header, f"no column {column!r} in {header!r}"
    for name in SMALL_INPUTS:
        rows = [line for line in lines if line.split(" ", 1)[0] == name and len(line.split()) == 6 + len(STAGE_COLUMNS)]
        assert len(rows) == 1, f"expected one stage row for {name}:\n{result.stdout}"
        assert (tmp_path / name / "infra.yml").is_file()

    # Placement per strategy: one row per strategy on the compose input (manual on a pinned copy).
    place_header = next((line for line in lines if line.startswith("input ") and "strategy" in line), None)
    assert place_header is not None, result.stdout
    for column in PLACEMENT_COLUMNS:
        assert column in place_header, f"no column {column!r} in {place_header!r}"
    for strategy in STRATEGY_NAMES:
        label = strategy + "*" if strategy == "manual" else strategy
        rows = [line for line in lines if line.split()[:2] == ["compose-100w-10g", label]]
        assert len(rows) == 1, f"expected one placement row for {strategy}:\n{result.stdout}"
    balanced = next(line for line in lines if line.split()[:2] == ["compose-100w-10g", "balanced"])
    assert balanced.split()[8] in ("exact", "heuristic", "heuristic,"), balanced

    # Balanced quality: the small shape, checked against brute force, no mismatch.
    quality_header = _header(lines, "shape ")
    for column in QUALITY_COLUMNS:
        assert column in quality_header, f"no column {column!r} in {quality_header!r}"
    row = next((line for line in lines if line.startswith("6x2 ")), None)
    assert row is not None, result.stdout
    assert row.split()[-1] == "0" and row.split()[-2] == "20", row

    # The synthetic compose input asks latency_optimized and isolation_first for something.
    text = (tmp_path / "compose-100w-10g" / "infra.yml").read_text()
    assert "latency_critical: true" in text and "isolate: true" in text


def test_quality_check_catches_a_wrong_exact_answer(monkeypatch):
    """A solve that returns the heuristic's answer as if it were exact must show up as mismatches."""
    def fake_solve(items, load0, capacity, exclusive=False, **kwargs):
        choice, load = balance.heuristic(items, load0, capacity, exclusive)
        feasible = all(c is not None for c in choice)
        value = balance.variance(load, capacity)
        return balance.Result(tuple(choice), value, value, True, feasible)

    honest = bench.bench_quality(8, 3, 40)
    assert honest.mismatches == 0
    monkeypatch.setattr(bench.balance, "solve", fake_solve)
    assert bench.bench_quality(8, 3, 40).mismatches > 0


def test_hostless_input_is_a_valid_infra_that_every_strategy_fits(tmp_path):
    """The `--sizes large` placement input at scale, small: schema-valid (it skips the loader at 100 000),
    about 80% of the VRAM asked for, and every strategy that searches places all of it within capacity."""
    import yaml

    from generator.diagnostics.findings import Diagnostics
    from generator.pipeline import compile_infra
    from generator.placement.core import place

    doc = bench.hostless_doc(400, 40)
    path = tmp_path / "infra.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    infra = compile_infra(path, until="validate", output_dir=tmp_path / "o").need_infra()
    assert sorted(infra.hosts) == [f"node-{h:03d}" for h in range(5)] and len(infra.gpus) == 40
    assert all(c.host is None and c.target == "kubernetes" for c in infra.consumers.values())
    asked = sum(c.request.vram_gb for c in infra.consumers.values())
    assert 0.75 < asked / (40 * 79.5) < 0.85
    for strategy in ("vram_based", "latency_optimized", "isolation_first", "balanced"):
        placement = place(infra, Diagnostics(), strategy)
        assert placement is not None and placement.unplaced == (), strategy
        assert [k for k, u in placement.gpus.items() if u.used_gb > u.capacity_gb - 0.5 + 1e-9] == [], strategy


def test_one_machine_edit_changes_only_the_first_memory_limit():
    from bench.targets import one_machine_edit
    text = "a:\n  limits.memory: 4GiB\nb:\n  limits.memory: 16GiB\n"
    assert one_machine_edit(text) == "a:\n  limits.memory: 5GiB\nb:\n  limits.memory: 16GiB\n"


def test_scaling_measure_reads_each_child_alone_and_judges_cpu_and_memory_per_machine(tmp_path):
    import pytest

    from bench.targets import ScalingRow, run_measured, scaling_table

    env = {"PATH": "/usr/bin:/bin"}
    _, _, big = run_measured([sys.executable, "-c", "b = bytearray(200_000_000); b[::4096] = b'x' * len(b[::4096])"],
                             env, cwd=tmp_path)
    _, _, small = run_measured([sys.executable, "-c", "pass"], env, cwd=tmp_path)
    assert big > 195_000 > small          # KiB: the second child's peak is its own, not the largest so far
    with pytest.raises(SystemExit, match="exited 3"):
        run_measured([sys.executable, "-c", "import sys; sys.exit(3)"], env, cwd=tmp_path)

    rows = [ScalingRow("a", 8_000, 9_002, 4_000.0, 3_000.0, 150_000),
            ScalingRow("b", 16_000, 17_857, 9_000.0, 6_600.0, 250_000),     # CPU 1.10x per machine, memory 0.83x
            ScalingRow("c", 32_000, 35_457, 16_000.0, 13_200.0, 600_000)]   # CPU 1.00x, memory 1.20x
    _, header, body = scaling_table(rows)
    assert header[7] == "CPU vs previous" and header[10] == "memory vs previous"
    assert [r[7] for r in body] == ["-", "1.10", "1.00"]
    assert [r[10] for r in body] == ["-", "0.83", "1.20"]
    assert [r[-1] for r in body] == ["-", "PASS", "PASS"]
    rows[2] = ScalingRow("c", 32_000, 35_457, 16_000.0, 13_200.0, 601_000)
    assert scaling_table(rows)[2][2][-1] == "FAIL"
