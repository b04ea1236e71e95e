"""`psot plan --out plan.json` then `psot apply plan.json`: exactly that plan, or a refusal when anything moved."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from tests.apply.test_compose_apply import UP, calls, pin_florence, project
from tests.conftest import run_psot


def applied_once(tmp_path: Path) -> tuple[Path, dict]:
    root, env = project(tmp_path)
    assert run_psot("sync", cwd=root).returncode == 0
    assert run_psot("apply", "--yes", cwd=root, env=env).returncode == 0
    return root, env


def test_a_fresh_saved_plan_is_applied_exactly(tmp_path: Path):
    root, env = applied_once(tmp_path)
    pin_florence(root)
    saved = run_psot("plan", "--out", "plan.json", cwd=root, env=env)
    assert saved.returncode == 2, saved.stderr
    assert "Saved this plan to plan.json: `psot apply plan.json` applies exactly it." in saved.stderr
    body = json.loads((root / "plan.json").read_text())
    assert [c["path"] for c in body["changes"]] == ["compose/ws/docker-compose.gpu-override.yml", "placement.yml"]
    assert [u["commands"] for u in body["apply"]] == [[
        "podman-compose -f docker-compose.prod.yml -f generated/compose/ws/docker-compose.gpu-override.yml "
        "up -d --force-recreate --no-deps -- ai-florence"], []]
    done = run_psot("apply", "plan.json", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert "Wrote generated/: 2 file(s) changed." in done.stdout
    assert calls(root)[1:] == [UP + ["ai-florence"]]
    assert run_psot("plan", cwd=root).returncode == 0  # generated/ now matches infra.yml
    assert "Nothing pending" in run_psot("apply", "--status", cwd=root).stdout


def test_a_plan_is_refused_once_infra_yml_changed(tmp_path: Path):
    root, env = applied_once(tmp_path)
    pin_florence(root)
    run_psot("plan", "--out", "plan.json", cwd=root)
    path = root / "infra.yml"
    path.write_text(path.read_text().replace("headroom_gb: 0.5", "headroom_gb: 1"))
    before = (root / "generated/compose/ws/docker-compose.gpu-override.yml").read_bytes()
    refused = run_psot("apply", "plan.json", cwd=root, env=env)
    assert refused.returncode == 1
    assert refused.stderr == ("psot: infra.yml changed since the plan was saved: make a new one with "
                              "`psot plan --out plan.json` and review it; nothing was applied.\n")
    assert len(calls(root)) == 1
    assert (root / "generated/compose/ws/docker-compose.gpu-override.yml").read_bytes() == before


def test_a_plan_is_refused_once_generated_changed(tmp_path: Path):
    root, env = applied_once(tmp_path)
    pin_florence(root)
    run_psot("plan", "--out", "plan.json", cwd=root)
    run_psot("sync", cwd=root)
    refused = run_psot("apply", "plan.json", cwd=root, env=env)
    assert refused.returncode == 1
    assert "psot: generated/ changed since the plan was saved" in refused.stderr
    assert len(calls(root)) == 1


def test_a_plan_is_refused_once_another_apply_ran(tmp_path: Path):
    root, env = applied_once(tmp_path)
    pin_florence(root)
    run_psot("sync", cwd=root)
    run_psot("plan", "--out", "plan.json", cwd=root)
    assert run_psot("apply", "--yes", cwd=root, env=env).returncode == 0
    refused = run_psot("apply", "plan.json", cwd=root, env=env)
    assert refused.returncode == 1
    assert "the applied state changed since the plan was saved" in refused.stderr
    assert len(calls(root)) == 2


def test_a_file_that_is_not_a_plan_is_refused(tmp_path: Path):
    root, env = applied_once(tmp_path)
    (root / "other.json").write_text('{"changes": []}')
    refused = run_psot("apply", "other.json", cwd=root, env=env)
    assert refused.returncode == 1
    assert "other.json is not a plan saved by `psot plan --out`" in refused.stderr


def test_apply_waits_for_a_running_sync_then_fails_clearly(tmp_path: Path):
    root, env = applied_once(tmp_path)
    pin_florence(root)
    run_psot("sync", cwd=root)
    fd = os.open(root / ".generated.psot-lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        blocked = run_psot("apply", "--yes", cwd=root, env=env | {"PSOT_LOCK_TIMEOUT": "0.5"})
    finally:
        os.close(fd)
    assert blocked.returncode == 3
    assert "another psot (sync or apply) is using" in blocked.stderr
    assert len(calls(root)) == 1
    assert run_psot("apply", "--yes", cwd=root, env=env).returncode == 0


def test_apply_refuses_a_generated_tree_that_is_not_synced(tmp_path: Path):
    root, env = applied_once(tmp_path)
    pin_florence(root)
    refused = run_psot("apply", "--yes", cwd=root, env=env)
    assert refused.returncode == 1
    assert ("psot: generated/ is not up to date with infra.yml (2 files differ): run `psot sync` (make sync), "
            "review the diff, then apply; nothing was applied.") in refused.stderr
    assert len(calls(root)) == 1
