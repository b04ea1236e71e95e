"""Drift: a generated file edited by hand is found, located, and not overwritten without --force."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import EXAMPLES, run_psot

OVERRIDE = "compose/ws/docker-compose.gpu-override.yml"


def synced(seed: Path) -> Path:
    result = run_psot("sync", str(seed))
    assert result.returncode == 0, result.stderr
    return seed.parent / "generated"


def hand_edit(out: Path) -> tuple[Path, int]:
    """Point ai-enrichment at GPU 0 by hand; returns the file and the edited line."""
    path = out / OVERRIDE
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("  ai-enrichment:"))
    index = next(i for i in range(start, len(lines)) if lines[i].split("#")[0].strip() == "- '1'")
    lines[index] = lines[index].replace("'1'", "'0'")
    path.write_text("".join(lines))
    return path, index + 1


def test_the_manifest_records_every_file_sync_wrote(seed_001):
    out = synced(seed_001)
    manifest = json.loads((out / ".psot" / "manifest.json").read_text())
    assert sorted(manifest["files"]) == [OVERRIDE, "placement.yml"]
    assert all(len(h) == 64 for h in manifest["files"].values())


def test_a_hand_edit_is_reported_with_file_and_line_and_not_overwritten(seed_001):
    out = synced(seed_001)
    path, line = hand_edit(out)
    edited = path.read_text()

    plan = run_psot("plan", str(seed_001))
    assert plan.returncode == 2
    assert f"  ! generated/{OVERRIDE}:{line}" in plan.stdout
    body = json.loads(run_psot("plan", str(seed_001), "--format", "json").stdout)
    assert body["drift"] == [{"path": OVERRIDE, "line": line}]

    refused = run_psot("sync", str(seed_001))
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == (
        f"generated/{OVERRIDE}:{line}:1: error[DRIFT001] edited by hand since psot wrote it; move the change "
        "into infra.yml (generated files are rewritten by every sync), or run `psot sync --force` to overwrite it")
    assert path.read_text() == edited

    forced = run_psot("sync", str(seed_001), "--force")
    assert forced.returncode == 0
    assert "- '1'" in path.read_text()
    again = json.loads(run_psot("plan", str(seed_001), "--format", "json").stdout)
    assert again["changes"] == [] and again["drift"] == []


def test_a_reformat_that_changes_no_data_is_still_a_change_and_drift(seed_001):
    """Bytes are what apply sends: a hand edit PyYAML reads as the same data is shown and blocks."""
    out = synced(seed_001)
    path = out / "placement.yml"
    path.write_text(path.read_text().replace("strategy: vram_based\n", "strategy: 'vram_based'\n"))
    planned = run_psot("plan", str(seed_001), "--format", "json")
    body = json.loads(planned.stdout)
    assert planned.returncode == 2
    assert body["changes"] == [{"path": "placement.yml", "action": "update", "keys": [], "same_data": True}]
    assert body["drift"] == [{"path": "placement.yml", "line": 2}]
    text = run_psot("plan", str(seed_001)).stdout
    assert "~ placement.yml\n    (same data to PyYAML, other bytes: written again exactly as psot renders it)\n" in text
    assert run_psot("sync", str(seed_001), "--check").returncode == 2
    blocked = run_psot("sync", str(seed_001))
    assert blocked.returncode == 1 and "error[DRIFT001]" in blocked.stderr
    assert run_psot("sync", str(seed_001), "--force").returncode == 0
    assert "strategy: vram_based\n" in path.read_text()


def test_a_merge_key_hand_edit_that_pyyaml_reads_as_no_change_is_named_and_fails_the_check(tmp_path):
    """Incus reads `<<:` after an explicit key as an override; PyYAML keeps the explicit key. The
    plan judges bytes, so the edit cannot hide behind PyYAML's reading of it."""
    shutil.copytree(EXAMPLES / "anklume-gpu" / "exclusive", tmp_path / "p")
    infra = tmp_path / "p" / "infra.yml"
    out = synced(infra)
    profile = out / "incus" / "ai-tools" / "profiles" / "nvidia-compute.yaml"
    text = profile.read_text()
    assert "config: {}\n" in text
    edited = text.replace("config: {}\n", "config:\n  security.privileged: 'false'\n"
                                         "  <<: {security.privileged: 'true'}\n", 1)
    profile.write_text(edited)
    import yaml
    assert yaml.safe_load(edited)["config"] == {"security.privileged": "false"}  # what PyYAML reads
    check = run_psot("sync", str(infra), "--check")
    assert check.returncode == 2
    assert "~ incus/ai-tools/profiles/nvidia-compute.yaml\n" in check.stdout
    plan = run_psot("plan", str(infra))
    assert plan.returncode == 2 and "~ incus/ai-tools/profiles/nvidia-compute.yaml\n" in plan.stdout


def test_sync_check_exits_2_when_generated_is_stale(seed_001):
    stale = run_psot("sync", str(seed_001), "--check")
    assert stale.returncode == 2
    assert "generated/ is not up to date with infra.yml: run `make sync`" in stale.stderr
    assert not (seed_001.parent / "generated").exists()
    synced(seed_001)
    fresh = run_psot("sync", str(seed_001), "--check", "--format", "json")
    assert fresh.returncode == 0 and json.loads(fresh.stdout)["up_to_date"] is True


def test_a_file_without_header_is_still_known_as_psots_own(tmp_path):
    """The kernel command line has no header; the manifest makes it an orphan when it is no longer generated."""
    infra = tmp_path / "infra.yml"
    shutil.copy(EXAMPLES / "dual-gpu-proxmox" / "infra.yml", infra)
    out = synced(infra)
    assert (out / "proxmox" / "pve" / "host" / "cmdline").read_text() == "intel_iommu=on iommu=pt\n"
    # With no VM taking the GTX 970, both cards land on the host's driver: the host says which kernel modules it
    # loads (the open ones; the 970 becomes unavailable, DRV004), else it is the impossible host of DRV003.
    text = infra.read_text().replace("gpu: {passthrough: true, vram_gb: 12}", "gpu: false")
    infra.write_text(text.replace("    cpu_vendor: intel\n",
                                  "    cpu_vendor: intel\n    nvidia: {kernel_modules: open}\n", 1))
    body = json.loads(run_psot("plan", str(infra), "--format", "json").stdout)
    deleted = [c["path"] for c in body["changes"] if c["action"] == "delete"]
    assert "proxmox/pve/host/cmdline" in deleted
    assert run_psot("sync", str(infra), "--clean-orphans").returncode == 0
    assert not (out / "proxmox" / "pve" / "host" / "cmdline").exists()
