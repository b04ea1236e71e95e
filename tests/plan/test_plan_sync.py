"""plan and sync as users run them: exit codes, semantic diffs, orphans, no needless writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from generator.serialize import header
from tests.conftest import REPO, run_psot

OVERRIDE = "compose/ws/docker-compose.gpu-override.yml"
# What the plan says apply will run for seed 001 (`Commands apply will use`).
COMPOSE_USED = {"target": "compose", "host": "ws", "programs": ["docker compose"], "runs_on": "on this machine",
                "settings": []}


def synced(seed: Path) -> Path:
    result = run_psot("sync", str(seed))
    assert result.returncode == 0, result.stderr
    return seed.parent / "generated"


def plan_json(seed: Path) -> tuple[int, dict]:
    result = run_psot("plan", str(seed), "--format", "json")
    return result.returncode, json.loads(result.stdout) if result.stdout else {}


def stats(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_first_plan_adds_everything(seed_001):
    code, body = plan_json(seed_001)
    assert code == 2
    assert body == {"changes": [{"path": OVERRIDE, "action": "add", "keys": []},
                                {"path": "placement.yml", "action": "add", "keys": []}],
                    "summary": {"add": 2, "update": 0, "delete": 0}, "drift": [], "commands": [COMPOSE_USED]}


def test_second_sync_writes_nothing_and_plan_exits_0(seed_001):
    out = synced(seed_001)
    before = stats(out)
    again = run_psot("sync", str(seed_001))
    assert again.returncode == 0
    assert "No changes. generated/ is up to date." in again.stdout
    assert stats(out) == before
    assert plan_json(seed_001) == (0, {"changes": [], "summary": {"add": 0, "update": 0, "delete": 0},
                                       "drift": [], "commands": [COMPOSE_USED]})


def test_editing_one_service_vram_names_exactly_the_changed_file_and_keys(seed_001):
    synced(seed_001)
    text = seed_001.read_text().replace("vram_gb: 1.5}", "vram_gb: 1.6}")
    seed_001.write_text(text)
    code, body = plan_json(seed_001)
    assert code == 2
    # ai-florence stays on the A5500, so the compose override does not change:
    # only its recorded VRAM, the A5500's total and the over-capacity warning do.
    assert body["changes"] == [{"path": "placement.yml", "action": "update",
                                "keys": ["assignments.ai-florence.vram_gb", "findings",
                                         "gpus.ws/rtx-a5500.used_gb"]}]


def test_a_move_to_another_gpu_shows_in_the_override(seed_001):
    synced(seed_001)
    seed_001.write_text(seed_001.read_text().replace("gpu: {latency_critical: true}\n",
                                                     "gpu: {latency_critical: true, pin: rtx-a5500}\n"))
    result = run_psot("plan", str(seed_001))
    assert result.returncode == 2
    # Low churn: everything else stays where the previous placement.yml put it; only yolo moves.
    assert result.stdout.splitlines()[:3] == [f"~ {OVERRIDE}",
                                             "    services.ai-yolo26.deploy.resources.reservations.devices",
                                             "~ placement.yml"]
    assert "\nPlan: 0 to add, 2 to change, 0 to destroy.\n\nCommands apply will use:\n" in result.stdout


def test_reordered_keys_are_a_change_of_bytes_only(seed_001):
    """The same data in other bytes is shown as such, and a forced sync writes psot's bytes back."""
    out = synced(seed_001)
    placement = out / "placement.yml"
    written = placement.read_text()
    data = yaml.safe_load(written)
    placement.write_text(header("infra.yml") + yaml.safe_dump(data, sort_keys=True, default_flow_style=True))
    code, body = plan_json(seed_001)
    assert code == 2
    assert body["changes"] == [{"path": "placement.yml", "action": "update", "keys": [], "same_data": True}]
    assert run_psot("sync", str(seed_001), "--force").returncode == 0
    assert placement.read_text() == written


def test_orphans_are_reported_kept_then_cleaned(seed_001):
    out = synced(seed_001)
    orphan = out / "compose" / "old-host" / "docker-compose.gpu-override.yml"
    orphan.parent.mkdir()
    orphan.write_text(header("infra.yml") + "services: {}\n")
    (out / "README.md").write_text("notes of mine, not generated\n")

    code, body = plan_json(seed_001)
    assert code == 2
    assert body["changes"] == [{"path": "compose/old-host/docker-compose.gpu-override.yml",
                                "action": "delete", "keys": []}]

    kept = run_psot("sync", str(seed_001))
    assert kept.returncode == 0 and orphan.exists()
    assert "1 orphaned file kept in generated/" in kept.stdout

    cleaned = run_psot("sync", str(seed_001), "--clean-orphans")
    assert cleaned.returncode == 0
    assert not orphan.exists() and not orphan.parent.exists()
    assert (out / "README.md").read_text() == "notes of mine, not generated\n"
    assert plan_json(seed_001)[0] == 0


def test_an_orphan_without_a_header_is_kept_then_cleaned_like_the_others(tmp_path):
    """A kernel command line carries no header: psot knows it is its own only from the manifest,
    which must go on naming it while the orphan is kept, or --clean-orphans would never delete it."""
    infra = tmp_path / "infra.yml"
    text = (REPO / "infra.yml").read_text()
    infra.write_text(text)
    assert run_psot("sync", cwd=tmp_path).returncode == 0
    cmdline = tmp_path / "generated" / "proxmox" / "pve" / "host" / "cmdline"
    assert cmdline.is_file() and "psot" not in cmdline.read_text()
    infra.write_text(text[:text.index("  gaming:")] + text[text.index("  embeddings:"):])

    kept = run_psot("sync", cwd=tmp_path)
    assert kept.returncode == 0 and "5 orphaned files kept in generated/" in kept.stdout
    assert "  proxmox/pve/host/cmdline\n" in kept.stdout and cmdline.is_file()
    refused = run_psot("apply", "--dry-run", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.endswith(
        "psot: generated/ holds 5 files that infra.yml no longer generates: run `psot sync --clean-orphans` to "
        "delete them, then `psot apply --clean-orphans` to remove what they made from the machines too; nothing "
        "was applied.\n")

    cleaned = run_psot("sync", "--clean-orphans", cwd=tmp_path)
    assert cleaned.returncode == 0, cleaned.stderr
    assert not (tmp_path / "generated" / "proxmox").exists()
    assert run_psot("apply", "--dry-run", cwd=tmp_path).returncode == 0


def test_dry_run_writes_nothing(seed_001):
    result = run_psot("sync", str(seed_001), "--dry-run")
    assert result.returncode == 0
    assert "Dry run: nothing was written." in result.stdout
    assert not (seed_001.parent / "generated").exists()


def test_plan_text_is_terraform_like(seed_001):
    result = run_psot("plan", str(seed_001))
    assert result.stdout == (f"+ {OVERRIDE}\n+ placement.yml\n\nPlan: 2 to add, 0 to change, 0 to destroy.\n\n"
                             "Commands apply will use:\n  compose on ws: docker compose, on this machine\n")


def test_output_dir_option(seed_001, tmp_path):
    target = tmp_path / "elsewhere"
    assert run_psot("sync", str(seed_001), "-o", str(target)).returncode == 0
    assert (target / OVERRIDE).is_file()
    assert not (seed_001.parent / "generated").exists()


def test_output_dir_in_infra_yml_cannot_leave_the_project(seed_001):
    seed_001.write_text(seed_001.read_text().replace("global:\n", "global:\n  output_dir: ../../etc\n"))
    result = run_psot("sync", str(seed_001))
    assert result.returncode == 1
    assert "error[PATH001] output_dir '../../etc' must stay inside the project" in result.stderr


def test_generated_tree_is_identical_across_hash_seeds(seed_001, tmp_path):
    trees = []
    for seed in ("0", "4242"):
        out = tmp_path / f"out-{seed}"
        assert run_psot("sync", str(seed_001), "-o", str(out), env={"PYTHONHASHSEED": seed}).returncode == 0
        trees.append({str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert trees[0] == trees[1] and trees[0]


def test_directory_mode_merges_domains_and_names_the_file_in_findings(tmp_path):
    infra = tmp_path / "infra"
    (infra / "domains").mkdir(parents=True)
    (infra / "base.yml").write_text("project_name: lab\nglobal: {gpu_policy: exclusive}\ndomains: {}\n")
    (infra / "domains" / "ai.yml").write_text("ai-tools:\n  machines:\n    gpu-server: {type: lxc, gpu: true}\n")
    (infra / "domains" / "web.yml").write_text("web:\n  machnes: {}\n")
    (infra / "policies.yml").write_text("network_policies: []\n")
    result = run_psot("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "infra/domains/web.yml:2:3: error[KEY002] unknown key 'machnes' in 'web': did you mean 'machines'?")
    (infra / "domains" / "web.yml").write_text("web:\n  machines: {}\n")
    assert run_psot("validate", cwd=tmp_path).returncode == 0


def test_directory_mode_refuses_a_domain_defined_twice(tmp_path):
    infra = tmp_path / "infra"
    (infra / "domains").mkdir(parents=True)
    (infra / "base.yml").write_text("project_name: lab\nglobal: {}\ndomains:\n  web: {}\n")
    (infra / "domains" / "web.yml").write_text("web: {}\n")
    result = run_psot("validate", "infra", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("infra/domains/web.yml:1:1: error[YAML002] domain 'web' is already "
                                    "defined at infra/base.yml:4:3")


def test_unwritable_output_is_exit_3(seed_001):
    """/sys refuses new files even to root: the lock beside the output directory cannot be created."""
    result = run_psot("sync", str(seed_001), "-o", "/sys/psot-out")
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr.endswith("psot: cannot write /sys/psot-out: Permission denied\n"), result.stderr
    assert not os.path.exists("/sys/psot-out")


def test_plan_markdown_for_a_pull_request(seed_001):
    synced(seed_001)
    seed_001.write_text(seed_001.read_text().replace("gpu: {latency_critical: true}\n",
                                                     "gpu: {latency_critical: true, pin: rtx-a5500}\n"))
    result = run_psot("plan", str(seed_001), "--format", "markdown")
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0] == "**Plan: 0 to add, 2 to change, 0 to destroy.**"
    assert "> - `ai-yolo26`: moves from `ws/rtx-a400` to `ws/rtx-a5500`" in lines
    assert f"<details><summary><code>{OVERRIDE}</code> (~ updated; " \
           "<code>services.ai-yolo26.deploy.resources.reservations.devices</code>)</summary>" in lines
    assert len(result.stdout) <= 65_000
