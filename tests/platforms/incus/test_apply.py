"""`psot apply` against a real incusd (tests/incusd.py): create, update only what changed, rollback, failure.

Under CI the incusd tests fail when incusd cannot start; elsewhere they are
skipped with the reason (see tests/incusd.py).
"""

from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_psot
from tests.incusd import Incusd, running_incusd

INFRA = """\
project_name: incus-apply
global:
  base_subnet: "10.100"
domains:
  lab:
    description: GPU lab
    profiles:
      nvidia-compute:
        devices:
          gpu:
            type: gpu
            gputype: physical
      {passthrough_profile}:
        config:
          limits.memory: {memory}
        devices:
          gpu:
            type: gpu
            pci: "{passthrough_pci}"
    machines:
      llm:
        type: lxc
        gpu: {{pin: {llm_gpu}}}
        profiles: [default, nvidia-compute]
      web:
        type: lxc
        profiles: [default]
        config:
          limits.cpu: "2"
hosts:
  lab-host:
    platform: incus
    gpus:
      gpu-a:
        vendor: nvidia
        model: RTX A4000
        vram_gb: 16
        index: 0
        pci: "0000:03:00.0"
      gpu-b:
        vendor: nvidia
        model: RTX A2000
        vram_gb: 12
        index: 1
        pci: "0000:04:00.0"
"""

DEFAULTS = {"passthrough_profile": "gpu-passthrough", "memory": "4GiB", "passthrough_pci": "0000:05:00.0",
            "llm_gpu": "gpu-a"}


def write_infra(project: Path, **changes: str) -> Path:
    path = project / "infra.yml"
    path.write_text(INFRA.format(**(DEFAULTS | changes)), encoding="utf-8")
    return path


def psot(project: Path, incusd: Incusd, *args: str, env: dict | None = None):
    return run_psot(*args, cwd=project, env=incusd.env | (env or {}))


def record(project: Path) -> dict:
    return json.loads((project / ".generated.psot-state" / "last-apply.json").read_text())


def commands(project: Path) -> list[str]:
    return [c["command"] for unit in record(project)["units"] for c in unit["commands"]]


def profile(incusd: Incusd, name: str) -> dict:
    return yaml.safe_load(incusd.check("profile", "show", name, "--project", "lab"))


@pytest.fixture(scope="module")
def incusd():
    yield from running_incusd()


@pytest.fixture(scope="module")
def project(incusd: Incusd, tmp_path_factory) -> Path:
    """A project applied once: the project and profiles created, then the instances (created as AnKLuMe would)."""
    root = tmp_path_factory.mktemp("incus-apply")
    write_infra(root)
    assert psot(root, incusd, "sync").returncode == 0
    first = psot(root, incusd, "apply", "--yes")
    assert first.returncode == 0, first.stderr + first.stdout
    # No os_image: psot cannot create the instances and says so; they stay pending.
    assert "llm does not exist in project lab and has no image" in first.stdout
    assert "Apply incomplete: 5 applied, 2 need you first." in first.stdout
    assert commands(root) == [
        "incus project create -- lab < generated/incus/lab/project.yaml",
        "incus profile edit --project lab -- default < generated/incus/lab/profiles/default.yaml",
        "incus profile create --project lab -- gpu-passthrough < generated/incus/lab/profiles/gpu-passthrough.yaml",
        "incus profile create --project lab -- nvidia-compute < generated/incus/lab/profiles/nvidia-compute.yaml",
    ]
    # The instances, created empty (no image can be fetched here), as AnKLuMe creates them from its image;
    # the default profile psot wrote gives them their root disk.
    for name in ("llm", "web"):
        incusd.check("create", "--empty", name, "--project", "lab")
    second = psot(root, incusd, "apply", "--yes")
    assert second.returncode == 0, second.stderr + second.stdout
    return root


def test_apply_creates_projects_and_profiles(project: Path, incusd: Incusd):
    shown = yaml.safe_load(incusd.check("project", "show", "lab"))
    assert shown["description"] == "GPU lab"
    assert shown["config"]["features.profiles"] == "true"
    assert profile(incusd, "nvidia-compute")["devices"] == {"gpu": {"type": "gpu", "gputype": "physical"}}
    assert profile(incusd, "gpu-passthrough")["devices"]["gpu"]["pci"] == "0000:05:00.0"


def test_existing_instances_get_only_the_differences(project: Path, incusd: Incusd):
    # Taken against the live instance (no earlier record of it): nothing of incusd's own is unset.
    assert commands(project) == [
        "incus profile assign --project lab -- llm default,nvidia-compute",
        "incus config set --project lab -- llm nvidia.runtime=true security.protection.delete=true",
        "incus config device add --project lab -- llm gpu gpu gputype=physical pci=0000:03:00.0",
        "incus config set --project lab -- web limits.cpu=2 security.protection.delete=true",
    ]
    llm = yaml.safe_load(incusd.check("config", "show", "llm", "--project", "lab"))
    assert llm["profiles"] == ["default", "nvidia-compute"]
    assert llm["devices"]["gpu"] == {"type": "gpu", "gputype": "physical", "pci": "0000:03:00.0"}
    status = psot(project, incusd, "apply", "--status")
    assert status.returncode == 0, status.stdout
    assert "Nothing pending" in status.stdout


def test_a_second_apply_with_no_change_runs_nothing(project: Path, incusd: Incusd):
    again = psot(project, incusd, "apply", "--yes")
    assert again.returncode == 0
    assert "Nothing to apply" in again.stdout


def test_moving_a_gpu_changes_only_that_device(project: Path, incusd: Incusd):
    before = {name: profile(incusd, name) for name in ("nvidia-compute", "gpu-passthrough")}
    web_before = incusd.check("config", "show", "web", "--project", "lab")
    write_infra(project, llm_gpu="gpu-b")
    assert psot(project, incusd, "sync").returncode == 0
    dry = psot(project, incusd, "apply", "--dry-run")
    assert dry.stdout.splitlines()[:2] == ["~ incus/lab/instances/llm.yaml",
                                           "    $ incus config device set --project lab -- llm gpu pci=0000:04:00.0"]
    done = psot(project, incusd, "apply", "--yes")
    assert done.returncode == 0, done.stderr
    assert commands(project) == ["incus config device set --project lab -- llm gpu pci=0000:04:00.0"]
    llm = yaml.safe_load(incusd.check("config", "show", "llm", "--project", "lab"))
    assert llm["devices"]["gpu"]["pci"] == "0000:04:00.0"
    assert {name: profile(incusd, name) for name in before} == before
    assert incusd.check("config", "show", "web", "--project", "lab") == web_before


def test_changing_a_profile_edits_that_profile_alone_and_rollback_restores_it(project: Path, incusd: Incusd):
    untouched = profile(incusd, "nvidia-compute")
    old = profile(incusd, "gpu-passthrough")
    write_infra(project, llm_gpu="gpu-b", passthrough_pci="0000:06:00.0", memory="8GiB")
    assert psot(project, incusd, "sync").returncode == 0
    done = psot(project, incusd, "apply", "--yes")
    assert done.returncode == 0, done.stderr
    assert commands(project) == [
        "incus profile edit --project lab -- gpu-passthrough < generated/incus/lab/profiles/gpu-passthrough.yaml"]
    new = profile(incusd, "gpu-passthrough")
    assert new["devices"]["gpu"]["pci"] == "0000:06:00.0"
    assert new["config"] == {"limits.memory": "8GiB"}
    assert profile(incusd, "nvidia-compute") == untouched

    back = psot(project, incusd, "rollback", "--yes")
    assert back.returncode == 0, back.stderr + back.stdout
    assert commands(project) == ["incus profile edit --project lab -- gpu-passthrough < "
                                 ".generated.psot-state/previous/incus/lab/profiles/gpu-passthrough.yaml"]
    assert profile(incusd, "gpu-passthrough") == old
    assert profile(incusd, "nvidia-compute") == untouched
    # generated/ still says 0000:06:00.0: that is pending again, and apply goes forward.
    status = psot(project, incusd, "apply", "--status")
    assert status.returncode == 2
    assert "~ incus/lab/profiles/gpu-passthrough.yaml" in status.stdout
    forward = psot(project, incusd, "apply", "--yes")
    assert forward.returncode == 0
    assert profile(incusd, "gpu-passthrough") == new


def test_orphans_stay_unless_clean_orphans(project: Path, incusd: Incusd):
    write_infra(project, llm_gpu="gpu-b", passthrough_pci="0000:06:00.0", memory="8GiB",
                passthrough_profile="vfio-gpu")
    assert psot(project, incusd, "sync", "--clean-orphans").returncode == 0
    kept = psot(project, incusd, "apply", "--yes")
    assert kept.returncode == 0, kept.stderr
    assert commands(project) == [
        "incus profile create --project lab -- vfio-gpu < generated/incus/lab/profiles/vfio-gpu.yaml"]
    incusd.check("profile", "show", "gpu-passthrough", "--project", "lab")
    status = psot(project, incusd, "apply", "--status")
    assert "- incus/lab/profiles/gpu-passthrough.yaml" in status.stdout
    cleaned = psot(project, incusd, "apply", "--yes", "--clean-orphans")
    assert cleaned.returncode == 0, cleaned.stderr
    assert commands(project) == ["incus profile delete --project lab -- gpu-passthrough"]
    assert incusd.incus("profile", "show", "gpu-passthrough", "--project", "lab").returncode != 0


def test_a_daemon_stopped_mid_apply_leaves_a_record_of_what_was_applied(tmp_path: Path):
    """incusd goes away after the project is created: the record says what was applied and what was not."""
    daemons = running_incusd()
    incusd = next(daemons)
    try:
        write_infra(tmp_path)
        assert psot(tmp_path, incusd, "sync").returncode == 0
        # An `incus` in front of the real one that stops the daemon just before the first profile is created.
        wrapper = tmp_path / "bin" / "incus"
        wrapper.parent.mkdir()
        real = incusd.root / "usr/bin/incus"
        wrapper.write_text(textwrap.dedent(f"""\
            #!/bin/sh
            if [ "$1" = profile ] && [ "$2" = create ]; then "{real}" admin shutdown --timeout 30 >/dev/null 2>&1; fi
            exec "{real}" "$@"
            """))
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        env = {"PATH": f"{wrapper.parent}{os.pathsep}{incusd.env['PATH']}"}
        failed = psot(tmp_path, incusd, "apply", "--yes", env=env)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "Apply failed at incus/lab/profiles/gpu-passthrough.yaml: 2 applied, 1 failed, 4 not run" \
            in failed.stderr
        body = record(tmp_path)
        assert body["status"] == "failed"
        assert [(u["files"][0], u["status"]) for u in body["units"]] == [
            ("incus/lab/project.yaml", "applied"),
            ("incus/lab/profiles/default.yaml", "applied"),
            ("incus/lab/profiles/gpu-passthrough.yaml", "failed"),
            ("incus/lab/profiles/nvidia-compute.yaml", "not run"),
            ("incus/lab/instances/llm.yaml", "not run"),
            ("incus/lab/instances/web.yaml", "not run"),
            ("placement.yml", "not run"),
        ]
        assert body["units"][2]["commands"][0]["exit"] != 0
        applied = tmp_path / ".generated.psot-state" / "applied"
        assert sorted(str(p.relative_to(applied)) for p in applied.rglob("*") if p.is_file()) == [
            "incus/lab/profiles/default.yaml", "incus/lab/project.yaml"]
        status = psot(tmp_path, incusd, "apply", "--status")
        assert "Last apply: failed" in status.stdout
        assert ("failed: incus/lab/profiles/gpu-passthrough.yaml: $ incus profile create --project lab -- "
                "gpu-passthrough") in status.stdout
        assert "+ incus/lab/profiles/nvidia-compute.yaml" in status.stdout
    finally:
        daemons.close()
