"""The `psot detect` command: JSON output, arguments, exit codes."""

from __future__ import annotations

import json

from tests.conftest import run_psot
from tests.detect.helpers import MIXED, SEED_000


def test_json_output():
    run = run_psot("detect", "--host", "mixed", "--format", "json", "--from", *map(str, MIXED))
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["ok"] is True and body["host"] == "mixed"
    assert body["tools"] == ["nvidia-smi", "amd-smi", "rocm-smi", "lspci"]
    assert [s["format"] for s in body["sources"]] == ["lspci", "nvidia-smi-csv", "rocm-smi-json", "amd-smi-json"]
    assert [(g["name"], g["pci"], g["complete"]) for g in body["gpus"]] == [
        ("uhd-graphics-770", "0000:00:02.0", False), ("rtx-4090", "0000:01:00.0", True),
        ("rx-7900-xtx", "0000:03:00.0", True)]
    assert body["gpus"][1]["uuid"] == "GPU-1b724e78-eef5-4163-d43c-e4da15d41176"
    assert list(body["block"]["hosts"]["mixed"]["gpus"]) == ["rtx-4090", "rx-7900-xtx"]
    assert [f["code"] for f in body["findings"]] == ["DETECT006"]
    assert set(body["findings"][0]) == {"code", "severity", "message", "file", "line", "column", "path"}


def test_json_output_when_no_tool_runs(tmp_path):
    run = run_psot("detect", "--format", "json", env={"PATH": str(tmp_path)})
    assert run.returncode == 3
    body = json.loads(run.stdout)
    assert body["ok"] is False and body["gpus"] == [] and body["findings"][0]["code"] == "DETECT004"


def test_several_files_after_one_from():
    one = run_psot("detect", "--host", "h", "--from", str(SEED_000[0]), "--from", str(SEED_000[1]))
    other = run_psot("detect", "--host", "h", "--from", *map(str, SEED_000))
    assert one.returncode == other.returncode == 0 and one.stdout == other.stdout


def test_files_without_from_are_a_usage_error():
    run = run_psot("detect", str(SEED_000[0]))
    assert run.returncode == 1 and "pass them after --from" in run.stderr


def test_a_host_name_infra_yml_refuses():
    run = run_psot("detect", "--host", "My_Host", "--from", str(SEED_000[0]))
    assert run.returncode == 1 and "is not a host name infra.yml accepts" in run.stderr


def test_a_readable_file_and_a_garbage_one_print_no_block(tmp_path):
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("hello\n")
    run = run_psot("detect", "--host", "h", "--from", str(SEED_000[0]), str(garbage))
    assert run.returncode == 1 and run.stdout == ""
    assert "error[DETECT001]" in run.stderr and "no inventory printed" in run.stderr


def test_help_names_the_options():
    run = run_psot("detect", "--help")
    assert run.returncode == 0
    for option in ("--from", "--host", "--check", "--format"):
        assert option in run.stdout
