"""Apply and rollback ask before they act, as Terraform does, and refuse when no one can answer.

The compose command is the recording stand-in of test_compose_apply: a command psot ran leaves a
line in calls.log, so "ran nothing" is checked, not assumed.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_psot, run_psot_in_terminal
from tests.platforms.compose.test_apply import calls, pin_florence, project

QUESTION = ("Do you want to perform these actions?\n"
            "  psot will run the commands shown above.\n"
            "  Only 'yes' will be accepted to approve.\n")


def synced(tmp_path: Path) -> tuple[Path, dict]:
    root, env = project(tmp_path)
    assert run_psot("sync", cwd=root).returncode == 0
    return root, env


def nothing_ran(root: Path) -> bool:
    return calls(root) == [] and not (root / ".generated.psot-state" / "last-apply.json").exists()


def test_apply_without_yes_and_without_a_terminal_refuses_and_runs_nothing(tmp_path: Path):
    root, env = synced(tmp_path)
    refused = run_psot("apply", cwd=root, env=env)
    assert refused.returncode == 1
    assert refused.stderr.endswith(
        "psot: apply asks for confirmation and there is no terminal to ask on: pass --yes (or --auto-approve) "
        "to apply without asking, or --dry-run to see the commands; nothing was run.\n")
    assert nothing_ran(root)


def test_apply_with_yes_or_auto_approve_applies_without_asking(tmp_path: Path):
    root, env = synced(tmp_path)
    done = run_psot("apply", "--yes", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert "Do you want" not in done.stdout
    assert len(calls(root)) == 1
    pin_florence(root)
    assert run_psot("sync", cwd=root).returncode == 0
    again = run_psot("apply", "--auto-approve", cwd=root, env=env)
    assert again.returncode == 0, again.stderr
    assert len(calls(root)) == 2


def test_json_output_needs_yes(tmp_path: Path):
    root, env = synced(tmp_path)
    refused = run_psot("apply", "--format", "json", cwd=root, env=env)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["status"] == "refused"
    assert nothing_ran(root)


def test_dry_run_never_asks(tmp_path: Path):
    root, env = synced(tmp_path)
    dry = run_psot("apply", "--dry-run", cwd=root, env=env)
    assert dry.returncode == 0 and "Dry run: 2 to apply; nothing was run." in dry.stdout
    assert nothing_ran(root)


def test_at_a_terminal_apply_shows_the_commands_asks_and_runs_after_yes(tmp_path: Path):
    root, env = synced(tmp_path)
    code, screen = run_psot_in_terminal("apply", "--no-color", cwd=root, env=env, answer="yes")
    assert code == 0, screen
    shown, asked = screen.index("$ podman-compose -f docker-compose.prod.yml"), screen.index(QUESTION)
    assert shown < asked < screen.index("Apply complete: 2 applied.")
    assert len(calls(root)) == 1


def test_at_a_terminal_any_answer_but_yes_cancels(tmp_path: Path):
    root, env = synced(tmp_path)
    for answer in ("y", "no", "YES", ""):
        code, screen = run_psot_in_terminal("apply", "--no-color", cwd=root, env=env, answer=answer)
        assert code == 1 and "Apply cancelled: nothing was run." in screen, (answer, screen)
    assert nothing_ran(root)


def test_rollback_asks_too(tmp_path: Path):
    root, env = synced(tmp_path)
    assert run_psot("apply", "--yes", cwd=root, env=env).returncode == 0
    pin_florence(root)
    assert run_psot("sync", cwd=root).returncode == 0
    assert run_psot("apply", "--yes", cwd=root, env=env).returncode == 0
    refused = run_psot("rollback", cwd=root, env=env)
    assert refused.returncode == 1 and "pass --yes (or --auto-approve) to rollback" in refused.stderr
    assert len(calls(root)) == 2
    code, screen = run_psot_in_terminal("rollback", "--no-color", cwd=root, env=env, answer="yes")
    assert code == 0, screen
    assert QUESTION in screen and len(calls(root)) == 3
