"""`psot plan --out plan.json` then `psot apply plan.json`: exactly that plan, or a refusal when anything moved."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_psot
from tests.platforms.compose.test_apply import UP, calls, pin_florence, project


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


def saved_plan(tmp_path: Path) -> tuple[Path, dict, dict]:
    """A project applied once, then a change planned into plan.json: (root, env, the plan's body)."""
    root, env = applied_once(tmp_path)
    pin_florence(root)
    assert run_psot("plan", "--out", "plan.json", cwd=root, env=env).returncode == 2
    return root, env, json.loads((root / "plan.json").read_text())


def set_field(body: dict, path: tuple, value) -> None:
    *parents, last = path
    for part in parents:
        body = body[part]
    if value is DELETE:
        del body[last]
    else:
        body[last] = value


DELETE = object()


@pytest.mark.parametrize("path, value, problem", [
    (("inputs",), [], "`inputs` must be an object, not a list"),
    (("inputs", "infra.yml"), 7, "`inputs.infra.yml` must be a string, not a number"),
    (("apply", 0, "commands"), "podman-compose up", "`apply[0].commands` must be a list, not a string"),
    (("apply", 0, "commands", 0), ["podman-compose"], "`apply[0].commands[0]` must be a string, not a list"),
    (("tree",), None, "`tree` must be a string, not null"),
    (("generated",), "not a digest", "`generated` must be a SHA-256 (64 hex digits)"),
    (("tree",), DELETE, "`tree` is missing"),
    (("run",), ["sh", "-c", "id"], "`run` is not a field of a saved plan"),
    (("changes", 0, "action"), "explode", "`changes[0].action` must be one of add, update, delete"),
    (("commands", 0, "host"), 3, "`commands[0].host` must be a string or null, not a number"),
    (("infra",), "", "`infra` must not be empty"),
])
def test_a_saved_plan_with_a_wrong_field_is_refused_naming_it(tmp_path: Path, path, value, problem):
    root, env, body = saved_plan(tmp_path)
    set_field(body, path, value)
    (root / "plan.json").write_text(json.dumps(body))
    before = (root / "generated/compose/ws/docker-compose.gpu-override.yml").read_bytes()
    for args in (("apply", "plan.json", "--dry-run"), ("apply", "plan.json")):
        refused = run_psot(*args, cwd=root, env=env)
        assert (refused.returncode, refused.stdout, refused.stderr) == (1, "", (
            f"psot: plan.json is not a plan as `psot plan --out` saves it: {problem}; nothing was applied.\n"))
    assert len(calls(root)) == 1
    assert (root / "generated/compose/ws/docker-compose.gpu-override.yml").read_bytes() == before


def test_a_plan_of_another_format_version_is_refused(tmp_path: Path):
    root, env, body = saved_plan(tmp_path)
    body["version"] = 1
    (root / "plan.json").write_text(json.dumps(body))
    refused = run_psot("apply", "plan.json", "--format", "json", cwd=root, env=env)
    assert refused.returncode == 1
    assert json.loads(refused.stdout) == {"status": "refused", "reason": (
        "plan.json was saved in another plan format (version 1, this psot reads 2): make a new one with "
        "`psot plan --out plan.json` and review it")}


def test_a_command_appended_to_a_saved_plan_is_refused_by_the_dry_run_too(tmp_path: Path):
    """The commands in the file are shown for review, never run: apply derives them again and compares."""
    root, env, body = saved_plan(tmp_path)
    body["apply"][0]["commands"].append("sh -c 'touch pwned'")
    (root / "plan.json").write_text(json.dumps(body))
    message = ("psot: the commands apply derives now are not the ones in plan.json (the machines changed since it "
               "was saved, or the file was edited): for compose/ws/docker-compose.gpu-override.yml the plan has "
               "`sh -c 'touch pwned'`, which apply does not derive; make a new one with `psot plan --out plan.json` "
               "and review it; nothing was applied.\n")
    for args in (("apply", "plan.json", "--dry-run"), ("apply", "plan.json")):
        refused = run_psot(*args, cwd=root, env=env)
        assert (refused.returncode, refused.stdout, refused.stderr) == (1, "", message)
    assert len(calls(root)) == 1 and not (root / "pwned").exists()


def test_a_dry_run_of_a_saved_plan_checks_it_and_prints_the_commands_it_derives(tmp_path: Path):
    root, env, body = saved_plan(tmp_path)
    dry = run_psot("apply", "plan.json", "--dry-run", cwd=root, env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[-6:] == [
        "~ compose/ws/docker-compose.gpu-override.yml",
        "    $ podman-compose -f docker-compose.prod.yml -f generated/compose/ws/docker-compose.gpu-override.yml "
        "up -d --force-recreate --no-deps -- ai-florence",
        "    note: recreates ai-florence; other services are not touched",
        "~ placement.yml",
        "    (no command: recorded only)",
        "Dry run: plan.json checks out (2 to apply, as it says); nothing was written or run.",
    ]
    assert len(calls(root)) == 1
    as_json = json.loads(run_psot("apply", "plan.json", "--dry-run", "--format", "json", cwd=root, env=env).stdout)
    assert (as_json["status"], as_json["units"], as_json["commands"]) == ("dry-run", body["apply"], body["commands"])
    # The same checks as the real run: a plan gone stale is refused by the dry run as well.
    path = root / "infra.yml"
    path.write_text(path.read_text().replace("headroom_gb: 0.5", "headroom_gb: 1"))
    stale = run_psot("apply", "plan.json", "--dry-run", cwd=root, env=env)
    assert (stale.returncode, stale.stderr) == (1, "psot: infra.yml changed since the plan was saved: make a new one "
                                                   "with `psot plan --out plan.json` and review it; nothing was "
                                                   "applied.\n")


def test_a_saved_plan_names_the_programs_apply_will_use(tmp_path: Path):
    root, env, body = saved_plan(tmp_path)
    assert body["commands"] == [{"target": "compose", "host": "ws", "programs": ["podman-compose"],
                                 "runs_on": "on this machine", "settings": ["global.compose.command"]}]
    body["commands"][0]["programs"] = ["docker compose"]
    (root / "plan.json").write_text(json.dumps(body))
    refused = run_psot("apply", "plan.json", cwd=root, env=env)
    assert (refused.returncode, refused.stderr) == (1, (
        "psot: the programs apply would use are not the ones in plan.json (the file was edited?): make a new one "
        "with `psot plan --out plan.json` and review it; nothing was applied.\n"))
