"""STO001 (storage.py) on examples/blackwell-bringup: seed 003's machine fails to compile with exactly the
findings it documents.

The RTX 5070 Ti on driver 570.86.16 is degraded (DRV002) and Ollama's model
does not fit the 28 KB left on the root pool (STO001, an error). The header
comment of the example quotes `psot validate` word for word; these tests keep
it honest, and check that the fix the message suggests works.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import EXAMPLES, run_psot

EXAMPLE = EXAMPLES / "blackwell-bringup"

FINDINGS = [
    "infra.yml:43:17: warning[DRV002] homelab/rtx-5070-ti (GeForce RTX 5070 Ti): driver 570.86.16 runs Blackwell "
    "(minimum 570.86.16 for its GB203 chip), but below the recommended 575 the GPU is treated as degraded: it gets "
    "a workload only when no other GPU fits it. Upgrade to driver 575 or newer.",
    "infra.yml:53:16: error[STO001] ollama: model llama3.2:3b needs 2 GB on pool 'root' of host 'homelab', which "
    "has 28 KB free; free 2 GB there or set model.pool to 'staging-pool' (675 GB free)",
]
SUMMARY = "1 error, 1 warning."


def documented_output(text: str) -> list[str]:
    """The indented lines of the header comment after "prints:", up to the next blank comment line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("prints:")) + 2
    out = []
    for line in lines[start:]:
        if not line.startswith("#   "):
            break
        out.append(line[4:])
    return out


def test_validate_fails_with_the_documented_findings():
    result = run_psot("validate", cwd=EXAMPLE)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == FINDINGS
    assert result.stderr.strip() == SUMMARY


def test_header_comment_quotes_validate_word_for_word():
    text = (EXAMPLE / "infra.yml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schemas/infra.schema.json\n")
    assert documented_output(text) == FINDINGS + [SUMMARY]


def test_json_findings_point_at_the_driver_and_the_disk_gb():
    result = run_psot("validate", "--format", "json", cwd=EXAMPLE)
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert [(f["code"], f["severity"], f["path"]) for f in body["findings"]] == [
        ("DRV002", "warning", "hosts.homelab.gpus.rtx-5070-ti.driver"),
        ("STO001", "error", "workloads.ollama.model.disk_gb"),
    ]


def test_nothing_is_written_for_the_failing_example(tmp_path: Path):
    result = run_psot("sync", str(EXAMPLE / "infra.yml"), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 1
    assert not (tmp_path / "out").exists()


def test_moving_the_model_to_the_staging_pool_compiles(tmp_path: Path):
    text = (EXAMPLE / "infra.yml").read_text(encoding="utf-8")
    fixed, n = re.subn(r"(?m)^      pool: root$", "      pool: staging-pool", text)
    assert n == 1
    (tmp_path / "infra.yml").write_text(fixed, encoding="utf-8")
    result = run_psot("place", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    placed = json.loads(result.stdout)
    # The degraded card is the only one: Ollama still gets it, with placement's warning.
    assert placed["assignments"]["ollama"]["gpus"] == ["homelab/rtx-5070-ti"]
    assert placed["gpus"]["homelab/rtx-5070-ti"]["status"] == "degraded"
    assert [f["code"] for f in placed["findings"]] == ["PLACE004"]


def test_the_575_driver_and_the_staging_pool_leave_nothing_to_report(tmp_path: Path):
    text = (EXAMPLE / "infra.yml").read_text(encoding="utf-8")
    fixed = text.replace("      pool: root\n", "      pool: staging-pool\n").replace(
        'driver: "570.86.16"', 'driver: "575.57.08"')
    (tmp_path / "infra.yml").write_text(fixed, encoding="utf-8")
    result = run_psot("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "0 errors, 0 warnings.\n"
