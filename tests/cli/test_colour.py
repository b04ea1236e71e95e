"""Colour at a terminal only: `+` green, `~` yellow, `-` red, error red, warning yellow; never in a
pipe or a file, nor with NO_COLOR or --no-color."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SEED_001, run_psot, run_psot_in_terminal

ESC = "\x1b["
GREEN_ADD = "\x1b[32m\x1b[1m+\x1b[0m compose/ws/docker-compose.gpu-override.yml"
YELLOW_WARNING = "\x1b[33m\x1b[1mwarning[VRAM001]\x1b[0m ai-enrichment budget"
RED_ERROR = "\x1b[31m\x1b[1merror[GPU001]\x1b[0m"


@pytest.fixture
def seed(tmp_path):
    shutil.copy(SEED_001, tmp_path / "infra.yml")
    return tmp_path


def test_plan_and_findings_are_coloured_at_a_terminal(seed):
    code, screen = run_psot_in_terminal("plan", cwd=seed)
    assert code == 2, screen
    assert GREEN_ADD in screen
    assert YELLOW_WARNING in screen
    assert "\x1b[1mPlan: 2 to add, 0 to change, 0 to destroy.\x1b[0m" in screen


def test_update_and_delete_marks_and_errors_are_coloured(seed):
    assert run_psot("sync", cwd=seed).returncode == 0
    infra = seed / "infra.yml"
    infra.write_text(infra.read_text().replace("vram_gb: 1.5}", "vram_gb: 1.25}"))
    (seed / "generated" / "compose" / "old.yml").write_text(
        (seed / "generated" / "placement.yml").read_text().replace("placement", "old", 1))
    code, screen = run_psot_in_terminal("plan", cwd=seed)
    assert code == 2, screen
    assert "\x1b[33m\x1b[1m~\x1b[0m placement.yml" in screen
    assert "\x1b[31m\x1b[1m-\x1b[0m compose/old.yml" in screen
    infra.write_text(infra.read_text().replace("gpu_policy: shared", "gpu_policy: exclusive"))
    code, screen = run_psot_in_terminal("validate", cwd=seed)
    assert code == 1 and RED_ERROR in screen, screen


@pytest.mark.parametrize("how", [{"env": {"NO_COLOR": "1"}}, {"flag": "--no-color"}, {"flag": "--no-color-first"}])
def test_no_color_and_the_no_color_flag_turn_it_off(seed, how):
    args = ["plan"]
    if how.get("flag") == "--no-color":
        args.append("--no-color")
    elif how.get("flag") == "--no-color-first":
        args.insert(0, "--no-color")
    code, screen = run_psot_in_terminal(*args, cwd=seed, env=how.get("env"))
    assert code == 2, screen
    assert ESC not in screen
    assert "+ compose/ws/docker-compose.gpu-override.yml" in screen
    assert "warning[VRAM001] ai-enrichment budget" in screen


def test_no_colour_when_not_a_terminal(seed):
    done = run_psot("plan", cwd=seed)
    assert done.returncode == 2
    assert ESC not in done.stdout and ESC not in done.stderr


def test_shell_completion_as_the_readme_documents_it():
    done = run_psot(env={"_PSOT_COMPLETE": "bash_source"})
    assert done.returncode == 0 and "_psot_completion()" in done.stdout
    done = run_psot(env={"_PSOT_COMPLETE": "bash_complete", "COMP_WORDS": "psot place --strategy ",
                         "COMP_CWORD": "3"})
    assert done.stdout.split() == ["plain,manual", "plain,vram_based", "plain,latency_optimized",
                                   "plain,isolation_first", "plain,balanced"]
