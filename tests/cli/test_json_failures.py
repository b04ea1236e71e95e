"""`--format json` prints exactly one JSON document on stdout in every outcome of sync, plan, place and
validate: input errors, a refused `-o`, a sync blocked by a hand edit, the lock held by another psot, an
output directory that cannot be written, a plan that cannot be saved, a usage error, an internal error.

Failures psot itself meets (exit 3) say `"ok": false` and an `"error"` message besides the findings.
"""

from __future__ import annotations

import errno
import json

import pytest

from generator import sync as sync_module
from generator.cli import common as cli_common
from generator.cli import main as cli_module
from generator.plan import service as plan_service
from generator.workspace import writer
from tests.conftest import run_psot
from tests.plan.test_drift import OVERRIDE, hand_edit, synced


def one_document(stdout: str) -> dict:
    """stdout is one JSON document and nothing else."""
    body, end = json.JSONDecoder().raw_decode(stdout)
    assert stdout[end:] == "\n", stdout
    return body


def codes(body: dict) -> list[str]:
    return [f["code"] for f in body["findings"]]


@pytest.mark.parametrize("command", ["validate", "place", "plan", "sync"])
def test_an_input_that_cannot_be_read(tmp_path, command):
    result = run_psot(command, "nowhere.yml", "--format", "json", cwd=tmp_path)
    body = one_document(result.stdout)
    assert (result.returncode, body["ok"], codes(body), result.stderr) == (1, False, ["LOAD001"], "")


@pytest.mark.parametrize("command", ["place", "plan", "sync"])
def test_a_refused_output_dir(seed_001, command):
    result = run_psot(command, str(seed_001), "-o", str(seed_001.parent), "--format", "json")
    body = one_document(result.stdout)
    assert (result.returncode, body["ok"], result.stderr) == (1, False, "")
    assert [f["file"] for f in body["findings"] if f["code"] == "PATH002"] == ["<command line>"]


def test_a_sync_blocked_by_a_hand_edit(seed_001):
    out = synced(seed_001)
    _, line = hand_edit(out)
    result = run_psot("sync", str(seed_001), "--format", "json")
    body = one_document(result.stdout)
    assert (result.returncode, body["ok"], result.stderr) == (1, False, "")
    drift = [f for f in body["findings"] if f["code"] == "DRIFT001"]
    assert drift == [{"code": "DRIFT001", "severity": "error", "message": "edited by hand since psot wrote it; move "
                      "the change into infra.yml (generated files are rewritten by every sync), or run `psot sync "
                      "--force` to overwrite it", "file": f"generated/{OVERRIDE}", "line": line, "column": 1,
                      "path": ""}]
    assert body["drift"] == [{"path": OVERRIDE, "line": line}] and body["written"] == []
    assert [c["path"] for c in body["changes"]] == [OVERRIDE]


def test_the_lock_held_by_another_psot(seed_001):
    out = seed_001.parent / "generated"
    with writer.locked(out):
        result = run_psot("sync", str(seed_001), "--format", "json", env={"PSOT_LOCK_TIMEOUT": "0.2"})
    body = one_document(result.stdout)
    assert (result.returncode, body["ok"], result.stderr) == (3, False, "")
    assert body["error"].startswith(f"another psot (sync or apply) is using {out} (lock ")
    assert "VRAM002" in codes(body), "the compilation's findings come along"


def test_an_output_dir_that_cannot_be_written(seed_001):
    result = run_psot("sync", str(seed_001), "-o", "/sys/psot-out", "--format", "json")
    body = one_document(result.stdout)
    assert (result.returncode, body["ok"], body["error"], result.stderr) == (
        3, False, "cannot write /sys/psot-out: Permission denied", "")


def test_a_plan_that_cannot_be_saved(seed_001):
    result = run_psot("plan", str(seed_001), "--out", "/sys/plan.json", "--format", "json")
    body = one_document(result.stdout)
    assert (result.returncode, body["ok"], body["error"], result.stderr) == (
        3, False, "cannot save the plan to /sys/plan.json: Permission denied", "")
    text = run_psot("plan", str(seed_001), "--out", "/sys/plan.json")
    assert (text.returncode, text.stdout) == (3, "")
    assert text.stderr.endswith("psot: cannot save the plan to /sys/plan.json: Permission denied\n")


@pytest.mark.parametrize("command", ["plan", "sync"])
def test_generated_that_cannot_be_read_whole(seed_001, monkeypatch, capsys, command):
    """Other syncs swapping generated/ all the time: reading it gives up (plan.py `_consistent`)."""
    def busy(*args, **kwargs):
        raise OSError(errno.EAGAIN, "generated kept changing while psot read it (other syncs are running); run again")
    monkeypatch.setattr(sync_module if command == "sync" else plan_service, "make_plan", busy)
    with pytest.raises(SystemExit) as exited:
        cli_module.main([command, str(seed_001), "--format", "json"])
    body = one_document(capsys.readouterr().out)
    assert (exited.value.code, body["ok"]) == (3, False)
    assert body["error"] == (f"cannot read {seed_001.parent / 'generated'}: generated kept changing while psot read "
                             "it (other syncs are running); run again")


def test_a_usage_error(tmp_path):
    result = run_psot("place", "--strategy", "nope", "--format", "json", cwd=tmp_path)
    body = one_document(result.stdout)
    assert (result.returncode, body["ok"], body["findings"]) == (1, False, [])
    assert body["error"].startswith("Invalid value for '--strategy': 'nope' is not one of ")
    assert "Error: Invalid value for '--strategy'" in result.stderr


def test_an_internal_error(seed_001, monkeypatch, capsys):
    def bug(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(cli_common, "compile_infra", bug)
    with pytest.raises(SystemExit) as exited:
        cli_module.main(["validate", str(seed_001), "--format=json"])
    captured = capsys.readouterr()
    assert exited.value.code == 3
    assert one_document(captured.out) == {"ok": False, "findings": [], "error": "internal error: RuntimeError: boom"}
    assert "psot: internal error: RuntimeError: boom" in captured.err


def test_text_output_stays_text(seed_001, monkeypatch, capsys):
    def bug(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(cli_common, "compile_infra", bug)
    with pytest.raises(SystemExit):
        cli_module.main(["validate", str(seed_001)])
    assert capsys.readouterr().out == ""
