"""The example CI workflow and the pre-commit hooks: accepted by their own validators, naming real commands."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO, run_psot

HOOKS = REPO / ".pre-commit-hooks.yaml"
WORKFLOW = REPO / "examples" / "ci" / "psot.yml"


def pre_commit_manifest(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(path)],
                          capture_output=True, text=True, timeout=120)


def github_workflow(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=120)


def test_pre_commit_accepts_the_hooks_and_rejects_a_broken_manifest(tmp_path):
    assert pre_commit_manifest(HOOKS).returncode == 0
    broken = yaml.safe_load(HOOKS.read_text())
    del broken[0]["entry"]
    (tmp_path / "hooks.yaml").write_text(yaml.safe_dump(broken))
    assert pre_commit_manifest(tmp_path / "hooks.yaml").returncode != 0


def test_the_github_workflow_schema_accepts_the_example_and_rejects_a_broken_one(tmp_path):
    assert github_workflow(WORKFLOW).returncode == 0, github_workflow(WORKFLOW).stdout
    broken = yaml.safe_load(WORKFLOW.read_text())
    broken["jobs"]["plan"]["runs-onn"] = broken["jobs"]["plan"].pop("runs-on")
    (tmp_path / "wf.yml").write_text(yaml.safe_dump(broken))
    assert github_workflow(tmp_path / "wf.yml").returncode != 0


def test_every_psot_command_they_run_works(tmp_path):
    """Each command, run as written on a copy of the default infra.yml: 0 (ok) or 2 (generated/ stale)."""
    (tmp_path / "infra.yml").write_text((REPO / "infra.yml").read_text())
    commands = [hook["entry"] for hook in yaml.safe_load(HOOKS.read_text())]
    for step in yaml.safe_load(WORKFLOW.read_text())["jobs"]["plan"]["steps"]:
        for line in str(step.get("run", "")).splitlines():
            if line.strip().startswith("psot "):
                commands.append(line.strip().split(" >")[0])
    assert "psot sync --check" in commands and "psot plan --format markdown" in commands
    for command in commands:
        result = run_psot(*shlex.split(command)[1:], cwd=tmp_path)
        assert result.returncode in (0, 2), (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "Error:" not in result.stderr, (command, result.stderr)
