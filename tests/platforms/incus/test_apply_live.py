"""`psot apply` and `psot rollback` on a live incusd (tests/incusd.py), as a user runs them, one step after another.

The project and its image are made by hand first (a user adopting a project psot did not create; the
apply from an empty server is tests/platforms/incus/test_live_examples.py). Each test goes on from the
state the one before left. Under CI the tests fail when incusd cannot start; elsewhere they are skipped with the
reason.
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
from tests.platforms.incus.images import living_image

INFRA = """\
project_name: incus-live
global:
  base_subnet: "10.120"
domains:
  lab:
    description: {description}
    profiles:
      compute:
        config:
          limits.memory: {memory}
    machines:
      llm:
        type: lxc
        os_image: tiny
        gpu: {{pin: {llm_gpu}}}
        profiles: [default, compute]
{extra}hosts:
  lab-host:
    platform: incus
    gpus:
      gpu-a: {{vendor: nvidia, model: RTX A4000, vram_gb: 16, index: 0, pci: "0000:03:00.0"}}
      gpu-b: {{vendor: nvidia, model: RTX A2000, vram_gb: 12, index: 1, pci: "0000:04:00.0"}}
"""

WEB = """\
      web:
        type: lxc
        os_image: tiny
        profiles: [default]
"""

DEFAULTS = {"description": "GPU lab", "memory": "4GiB", "llm_gpu": "gpu-a", "extra": ""}


def write_infra(root: Path, **changes: str) -> None:
    (root / "infra.yml").write_text(INFRA.format(**(DEFAULTS | changes)), encoding="utf-8")


def psot(root: Path, incusd: Incusd, *args: str, env: dict | None = None):
    return run_psot(*args, cwd=root, env=incusd.env | (env or {}))


def synced(root: Path, incusd: Incusd, **changes: str) -> None:
    write_infra(root, **changes)
    done = psot(root, incusd, "sync", "--clean-orphans")
    assert done.returncode == 0, done.stdout + done.stderr


def applied(root: Path, incusd: Incusd, *args: str, env: dict | None = None) -> list[str]:
    """Run `psot <args>` (apply by default), which must succeed; the commands it ran."""
    done = psot(root, incusd, *(args or ("apply", "--yes")), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return commands(root)


def commands(root: Path) -> list[str]:
    body = json.loads((root / ".generated.psot-state" / "last-apply.json").read_text())
    return [c["command"] for unit in body["units"] for c in unit["commands"]]


def shows(incusd: Incusd) -> dict[str, str]:
    """The project, its profile and its instances as `incus … show` prints them."""
    out = {"project": incusd.check("project", "show", "lab"),
           "compute": incusd.check("profile", "show", "compute", "--project", "lab")}
    for name in json.loads(incusd.check("query", "--", "/1.0/instances?project=lab")):
        name = name.rsplit("/", 1)[-1].split("?")[0]
        out[name] = incusd.check("config", "show", name, "--project", "lab")
    return out


@pytest.fixture(scope="module")
def incusd():
    yield from running_incusd()


@pytest.fixture(scope="module")
def root(incusd: Incusd, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("incus-live")
    incusd.check("project", "create", "lab")
    incusd.check("image", "import", str(living_image(root / "tiny.tar.gz")), "--alias", "tiny", "--project", "lab")
    # The default profile's root disk is psot's: rendered in incus/lab/profiles/default.yaml.
    synced(root, incusd)
    return root


def test_the_first_apply_creates_what_is_missing(root: Path, incusd: Incusd):
    assert applied(root, incusd) == [
        "incus project set --property -- lab 'description=GPU lab'",
        "incus project set -- lab features.networks=false",
        "incus profile create --project lab -- compute < generated/incus/lab/profiles/compute.yaml",
        "incus profile edit --project lab -- default < generated/incus/lab/profiles/default.yaml",
        "incus create --project lab -- tiny llm < generated/incus/lab/instances/llm.yaml",
    ]
    llm = yaml.safe_load(incusd.check("config", "show", "llm", "--project", "lab"))
    assert llm["devices"]["gpu"] == {"type": "gpu", "gputype": "physical", "pci": "0000:03:00.0"}
    assert llm["config"]["security.protection.delete"] == "true"


def test_a_second_apply_runs_nothing(root: Path, incusd: Incusd):
    again = psot(root, incusd, "apply", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing to apply" in again.stdout
    assert psot(root, incusd, "plan").returncode == 0
    status = psot(root, incusd, "apply", "--status")
    assert status.returncode == 0, status.stdout
    assert "Nothing pending" in status.stdout


def test_an_edited_description_on_a_non_empty_project_sets_only_it(root: Path, incusd: Incusd):
    synced(root, incusd, description="GPU lab, second floor")
    assert applied(root, incusd) == ["incus project set --property -- lab 'description=GPU lab, second floor'"]
    shown = yaml.safe_load(incusd.check("project", "show", "lab"))
    assert shown["description"] == "GPU lab, second floor"
    assert shown["config"]["features.storage.buckets"] == "true"       # Incus's own, left on


def test_a_moved_gpu_pin_sets_only_that_device(root: Path, incusd: Incusd):
    synced(root, incusd, description="GPU lab, second floor", llm_gpu="gpu-b")
    assert applied(root, incusd) == ["incus config device set --project lab -- llm gpu pci=0000:04:00.0"]


def test_a_new_machine_is_only_created(root: Path, incusd: Incusd):
    synced(root, incusd, description="GPU lab, second floor", llm_gpu="gpu-b", extra=WEB)
    assert applied(root, incusd) == ["incus create --project lab -- tiny web < generated/incus/lab/instances/web.yaml"]


def test_rollback_with_clean_orphans_deletes_the_instance_psot_created(root: Path, incusd: Incusd):
    plan = psot(root, incusd, "plan")
    assert ("incus: incus, on the incus client's default remote (`incus remote get-default`); `--clean-orphans` "
            "sets security.protection.delete=false on an instance psot protected, just before `incus delete`"
            ) in plan.stdout
    assert applied(root, incusd, "rollback", "--yes", "--clean-orphans") == [
        "incus config set --project lab -- web security.protection.delete=false",
        "incus delete --force --project lab -- web",
    ]
    assert incusd.incus("config", "show", "web", "--project", "lab").returncode != 0
    # Forward again: web is created anew.
    assert applied(root, incusd) == ["incus create --project lab -- tiny web < generated/incus/lab/instances/web.yaml"]


def test_rollback_restores_the_previous_state_byte_for_byte(root: Path, incusd: Incusd):
    before = shows(incusd)
    synced(root, incusd, description="GPU lab, third floor", llm_gpu="gpu-a", memory="8GiB", extra=WEB)
    assert applied(root, incusd) == [
        "incus project set --property -- lab 'description=GPU lab, third floor'",
        "incus profile edit --project lab -- compute < generated/incus/lab/profiles/compute.yaml",
        "incus config device set --project lab -- llm gpu pci=0000:03:00.0",
    ]
    after = shows(incusd)
    assert after != before
    assert applied(root, incusd, "rollback", "--yes") == [
        "incus project set --property -- lab 'description=GPU lab, second floor'",
        "incus profile edit --project lab -- compute < .generated.psot-state/previous/incus/lab/profiles/compute.yaml",
        "incus config device set --project lab -- llm gpu pci=0000:04:00.0",
    ]
    assert shows(incusd) == before
    # A second rollback goes forward again.
    applied(root, incusd, "rollback", "--yes")
    assert shows(incusd) == after


def test_a_failed_rollback_resumed_keeps_both_states(root: Path, incusd: Incusd):
    """The rollback stops at the instance (its `incus` fails once); run again, it completes, and a second
    rollback still goes forward to the state the first one started from."""
    forward = shows(incusd)
    wrapper = root / "bin" / "incus"
    wrapper.parent.mkdir(exist_ok=True)
    real = incusd.root / "usr/bin/incus"
    wrapper.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        if [ "$1" = config ] && [ "$2" = device ]; then echo "Error: refused once" >&2; exit 1; fi
        exec "{real}" "$@"
        """))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{wrapper.parent}{os.pathsep}{incusd.env['PATH']}"}
    failed = psot(root, incusd, "rollback", "--yes", env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Rollback failed at incus/lab/instances/llm.yaml: 2 applied, 1 failed, 1 not run" in failed.stderr
    assert applied(root, incusd, "rollback", "--yes") == [
        "incus config device set --project lab -- llm gpu pci=0000:04:00.0"]
    back = shows(incusd)
    assert back != forward
    applied(root, incusd, "rollback", "--yes")
    assert shows(incusd) == forward


def test_an_instance_removed_from_infra_is_deleted_with_clean_orphans(root: Path, incusd: Incusd):
    synced(root, incusd, description="GPU lab, third floor", llm_gpu="gpu-a", memory="8GiB")
    kept = psot(root, incusd, "apply", "--yes")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "Nothing to apply" in kept.stdout
    incusd.check("start", "--project", "lab", "--", "web")      # running: deleted all the same
    assert applied(root, incusd, "apply", "--yes", "--clean-orphans") == [
        "incus config set --project lab -- web security.protection.delete=false",
        "incus delete --force --project lab -- web",
    ]
    assert incusd.incus("config", "show", "web", "--project", "lab").returncode != 0


def test_a_gpu_changed_by_hand_is_reported_then_put_back(root: Path, incusd: Incusd):
    incusd.check("config", "device", "set", "llm", "gpu", "pci=0000:04:00.0", "--project", "lab")
    drift = ["Changed on the machines since they were applied (1; `psot apply` puts back what was applied):",
             "  ! incus/lab/instances/llm.yaml",
             "      devices.gpu.pci: applied '0000:03:00.0', server '0000:04:00.0'"]
    plan = psot(root, incusd, "plan")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "\n".join(drift) in plan.stdout
    assert psot(root, incusd, "plan", "--no-refresh").returncode == 0
    status = psot(root, incusd, "apply", "--status")
    assert status.returncode == 2, status.stdout
    assert "\n".join(drift) in status.stdout
    assert "No file pending: generated/ is what was applied; run `psot apply` to put back what changed." \
        in status.stdout
    assert json.loads(psot(root, incusd, "apply", "--status", "--format", "json").stdout)["drift"] == [
        {"path": "incus/lab/instances/llm.yaml", "target": "incus",
         "differences": ["devices.gpu.pci: applied '0000:03:00.0', server '0000:04:00.0'"]}]
    assert applied(root, incusd) == ["incus config device set --project lab -- llm gpu pci=0000:03:00.0"]
    assert psot(root, incusd, "apply", "--status").returncode == 0
