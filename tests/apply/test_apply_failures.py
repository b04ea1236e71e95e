"""When the platform or the disk fails during apply: an apply failure with a clear message, never "a bug in
psot", and a record that never says "not run" for a command that ran.

The compose command is the recording stand-in of test_compose_apply (calls.log says what really ran).
A full disk is simulated where psot writes its state (State's writes raise ENOSPC), in process.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.apply.engine import StateError, execute, run_step
from generator.apply.state import State
from generator.apply.units import Step, Unit
from generator.cli import main as cli
from tests.conftest import run_psot
from tests.platforms.compose.test_apply import calls, project

COMMAND = ("podman-compose -f docker-compose.prod.yml -f generated/compose/ws/docker-compose.gpu-override.yml up "
           "-d --force-recreate --no-deps -- ai-clip ai-enrichment ai-florence ai-llm ai-yolo26")


def record(root: Path) -> dict:
    return json.loads((root / ".generated.psot-state" / "last-apply.json").read_text())


def psot_in_process(root: Path, env: dict, *args: str, monkeypatch):
    """`psot ARGS` in this process (so State can be made to fail); no exception may escape the command."""
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli.cli, list(args), env=env, standalone_mode=False)
    assert result.exception is None, repr(result.exception)
    return result


def full_disk_after(writes: int, monkeypatch) -> list[int]:
    """State.write_record succeeds `writes` times, then raises ENOSPC (as a full disk does)."""
    count = [0]
    real = State.write_record

    def write_record(self, body):
        count[0] += 1
        if count[0] > writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.record_path))
        real(self, body)

    monkeypatch.setattr(State, "write_record", write_record)
    return count


def test_a_full_disk_after_a_command_ran_leaves_it_recorded_as_started(tmp_path: Path, monkeypatch):
    root, env = project(tmp_path)
    assert run_psot("sync", cwd=root).returncode == 0
    # The first write starts the record, the second marks the command as started; the third (its outcome) fails.
    full_disk_after(2, monkeypatch)
    done = psot_in_process(root, env, "apply", "--yes", monkeypatch=monkeypatch)
    assert done.return_value == 3
    state = root / ".generated.psot-state"
    assert done.stderr.splitlines()[-1] == (
        f"psot: apply stopped: could not write the record last-apply.json in {state} (No space left on device): "
        f"these commands ran: {COMMAND}. Free the space (or fix the permission), then run `psot apply` again: it "
        "resumes from what the record says")
    assert "internal error" not in done.output and "bug in psot" not in done.output
    assert len(calls(root)) == 1
    body = record(root)
    assert body["status"] == "running"
    assert [(u["files"], u["status"]) for u in body["units"]] == [
        (["compose/ws/docker-compose.gpu-override.yml"], "running"), (["placement.yml"], "not run")]
    assert body["units"][0]["commands"] == [{"command": COMMAND, "status": "started"}]
    monkeypatch.undo()
    status = run_psot("apply", "--status", cwd=root, env=env)
    assert status.stdout.splitlines()[:2] == [
        f"Last apply: running ({body['started']}): 1 started, outcome unknown, 1 not run",
        f"  started, outcome unknown: compose/ws/docker-compose.gpu-override.yml: $ {COMMAND}"]
    # Space again: the apply resumes (what is not recorded as applied runs again).
    again = run_psot("apply", "--yes", cwd=root, env=env)
    assert again.returncode == 0, again.stderr
    assert len(calls(root)) == 2
    assert record(root)["units"][0]["commands"] == [{"command": COMMAND, "exit": 0, "status": "ran"}]


def test_a_full_disk_before_anything_ran_is_an_apply_failure(tmp_path: Path, monkeypatch):
    root, env = project(tmp_path)
    assert run_psot("sync", cwd=root).returncode == 0
    full_disk_after(0, monkeypatch)
    done = psot_in_process(root, env, "apply", "--yes", "--format", "json", monkeypatch=monkeypatch)
    assert done.return_value == 3
    state = root / ".generated.psot-state"
    assert json.loads(done.stdout) == {
        "status": "error", "kind": "apply", "record": str(state / "last-apply.json"),
        "reason": (f"apply stopped: could not write the record last-apply.json in {state} (No space left on "
                   "device): no command had run. Free the space (or fix the permission), then run `psot apply` "
                   "again: it resumes from what the record says")}
    assert calls(root) == []


def test_a_full_disk_while_keeping_the_previous_state_stops_before_any_command(tmp_path: Path, monkeypatch):
    root, env = project(tmp_path)
    assert run_psot("sync", cwd=root).returncode == 0

    def no_space(self, tree=None):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(State, "snapshot_previous", no_space)
    done = psot_in_process(root, env, "apply", "--yes", monkeypatch=monkeypatch)
    assert done.return_value == 3
    assert done.stderr.splitlines()[-1] == (
        f"psot: could not keep the applied state for rollback in {root / '.generated.psot-state/previous'} (No "
        "space left on device); nothing was applied")
    assert calls(root) == []


def test_a_failing_state_write_in_the_engine_raises_a_state_error_after_recording_the_start(tmp_path: Path):
    ran = []

    class Disk(State):
        def record_file(self, rel, content):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    def runner(step, cwd):
        ran.append(step.argv)
        from generator.apply.engine import StepResult
        return StepResult(0)

    state = Disk(tmp_path / "generated")
    unit = Unit("compose", "add", {"compose/ws/x.yml": b"x"}, [Step(("true",))])
    with pytest.raises(StateError) as caught:
        execute([unit], state, tmp_path, kind="apply", tree_digest="0" * 64, echo=lambda line: None, runner=runner)
    assert str(caught.value) == (
        f"could not record compose/ws/x.yml as applied in {state.root} (Read-only file system): these commands "
        "ran: true. Free the space (or fix the permission), then run `psot apply` again: it resumes from what the "
        "record says")
    assert ran == [("true",)]
    assert json.loads(state.record_path.read_text())["units"][0]["commands"] == [
        {"command": "true", "exit": 0, "status": "ran"}]


def test_a_file_changed_on_disk_before_its_command_runs_is_not_sent(tmp_path: Path):
    """A command that reads its file from disk itself (Compose's -f) finds it checked first."""
    override = tmp_path / "override.yml"
    override.write_bytes(b"edited\n")
    ran = []
    state = State(tmp_path / "generated")
    unit = Unit("compose", "add", {"compose/ws/x.yml": b"psot's\n"},
                [Step(("true",), reads=((str(override), b"psot's\n"),))])
    outcome = execute([unit], state, tmp_path, kind="apply", tree_digest="0" * 64, echo=lambda line: None,
                      runner=lambda step, cwd: ran.append(step) or None)
    assert ran == [] and outcome.failed is unit
    [entry] = json.loads(state.record_path.read_text())["units"]
    assert entry["status"] == "failed"
    assert entry["commands"] == [{"command": "true", "exit": None, "refused": (
        f"{override} is not what psot rendered (edited during the apply?); the command was not run: run `psot "
        "sync`, review, then apply again")}]


def test_a_command_the_system_cannot_start_is_a_failed_step(tmp_path: Path):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    done = run_step(Step((str(script),)), tmp_path)
    assert (done.returncode, done.stderr) == (126, f"{script}: cannot run it: Permission denied")


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "1e30", "86401"])
def test_a_bad_lock_timeout_is_refused_naming_the_variable(tmp_path: Path, value):
    root, env = project(tmp_path)
    message = (f"psot: PSOT_LOCK_TIMEOUT={value!r} is not a number of seconds from 0 to 86400: set it to e.g. 60, "
               "or unset it for the default (60 s)\n")
    sync = run_psot("sync", cwd=root, env={"PSOT_LOCK_TIMEOUT": value})
    assert (sync.returncode, sync.stderr.splitlines(keepends=True)[-1]) == (3, message)
    assert not (root / "generated").exists()
    assert run_psot("sync", cwd=root).returncode == 0
    apply = run_psot("apply", "--yes", cwd=root, env=env | {"PSOT_LOCK_TIMEOUT": value})
    assert (apply.returncode, apply.stderr.splitlines(keepends=True)[-1]) == (3, message)
    assert "Traceback" not in apply.stderr + sync.stderr
    assert calls(root) == []


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf"])
def test_a_bad_apply_timeout_is_refused_before_anything_runs(tmp_path: Path, value):
    root, env = project(tmp_path)
    assert run_psot("sync", cwd=root).returncode == 0
    done = run_psot("apply", "--yes", cwd=root, env=env | {"PSOT_APPLY_TIMEOUT": value})
    assert (done.returncode, done.stderr.splitlines(keepends=True)[-1]) == (3, (
        f"psot: PSOT_APPLY_TIMEOUT={value!r} is not a number of seconds from 0 to 86400: set it to e.g. 900, or "
        "unset it for the default (900 s); nothing was applied\n"))
    assert calls(root) == []
    assert not (root / ".generated.psot-state").exists()


def test_a_good_lock_timeout_is_how_long_a_second_psot_waits(tmp_path: Path):
    root, env = project(tmp_path)
    fd = os.open(root / ".generated.psot-lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        started = time.monotonic()
        blocked = run_psot("sync", cwd=root, env={"PSOT_LOCK_TIMEOUT": " 0.3 "})
        waited = time.monotonic() - started
    finally:
        os.close(fd)
    assert blocked.returncode == 3
    assert "another psot (sync or apply) is using" in blocked.stderr.splitlines()[-1]
    assert waited < 10


def test_a_missing_platform_cli_and_nothing_to_roll_back_answer_in_json(tmp_path: Path):
    root, env = project(tmp_path)
    assert run_psot("sync", cwd=root).returncode == 0
    missing = run_psot("apply", "--yes", "--format", "json", cwd=root)        # podman-compose is not on PATH
    assert missing.returncode == 3
    assert json.loads(missing.stdout) == {
        "status": "error", "kind": "apply",
        "missing": {"podman-compose": ["compose/ws/docker-compose.gpu-override.yml"]},
        "reason": ("`podman-compose` is not on PATH; it is needed for compose/ws/docker-compose.gpu-override.yml. "
                   "Install it, or leave that platform out with --target; nothing was applied.")}
    back = run_psot("rollback", "--yes", "--format", "json", cwd=root, env=env)
    assert back.returncode == 1
    assert json.loads(back.stdout) == {"status": "refused",
                                       "reason": "nothing to roll back to: no apply has changed anything yet."}
