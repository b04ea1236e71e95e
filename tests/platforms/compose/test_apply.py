"""Compose apply (seed 001's restart flow): only the services whose GPU entry changed are recreated.

The compose command is a stand-in on PATH that records how it was called
(psot's part is the command line; what `podman-compose up` does with it is
Compose's), so the test sees every invocation, including any that should
not have happened.
"""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

from generator.serialize import load_yaml
from tests.conftest import SEED_001, run_psot

UP = ["-f", "docker-compose.prod.yml", "-f", "generated/compose/ws/docker-compose.gpu-override.yml",
      "up", "-d", "--force-recreate", "--no-deps", "--"]


def project(tmp_path: Path) -> tuple[Path, dict]:
    text = SEED_001.read_text(encoding="utf-8").replace(
        "  gpu_policy: shared", "  compose: {file: docker-compose.prod.yml, command: podman-compose}\n"
        "  gpu_policy: shared", 1)
    (tmp_path / "infra.yml").write_text(text, encoding="utf-8")
    # podman-compose cannot replace a base's own reservation (COMPOSE006): this base has none.
    (tmp_path / "docker-compose.prod.yml").write_text("services:\n" + "".join(
        f"  {name}: {{image: busybox}}\n" for name in ("ai-llm", "ai-yolo26", "ai-florence", "ai-clip",
                                                      "ai-enrichment")), encoding="utf-8")
    fake = tmp_path / "bin" / "podman-compose"
    fake.parent.mkdir()
    fake.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        printf '%s\\n' "$*" >> "{tmp_path}/calls.log"
        [ -z "$FAIL_COMPOSE" ]
        """))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return tmp_path, {"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}


def calls(root: Path) -> list[list[str]]:
    log = root / "calls.log"
    return [line.split(" ") for line in log.read_text().splitlines()] if log.exists() else []


def pin_florence(root: Path) -> None:
    path = root / "infra.yml"
    path.write_text(path.read_text().replace("model: {name: Florence-2-Large, vram_gb: 1.5}\n",
                                             "model: {name: Florence-2-Large, vram_gb: 1.5}\n"
                                             "    gpu: {pin: rtx-a400}\n"))


def florence_gpu(path: Path) -> list[str]:
    service = load_yaml(path.read_text())["services"]["ai-florence"]
    return service["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"]


def test_first_apply_recreates_every_gpu_service_once(tmp_path: Path):
    root, env = project(tmp_path)
    assert run_psot("sync", cwd=root).returncode == 0
    done = run_psot("apply", "--yes", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert calls(root) == [UP + ["ai-clip", "ai-enrichment", "ai-florence", "ai-llm", "ai-yolo26"]]


def test_changing_one_services_gpu_recreates_that_service_alone(tmp_path: Path):
    root, env = project(tmp_path)
    run_psot("sync", cwd=root)
    run_psot("apply", "--yes", cwd=root, env=env)
    pin_florence(root)
    assert run_psot("sync", cwd=root).returncode == 0
    dry = run_psot("apply", "--dry-run", cwd=root, env=env)
    assert ("    $ podman-compose -f docker-compose.prod.yml -f generated/compose/ws/docker-compose.gpu-override.yml "
            "up -d --force-recreate --no-deps -- ai-florence") in dry.stdout.splitlines()
    assert len(calls(root)) == 1  # a dry run runs nothing
    done = run_psot("apply", "--yes", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert calls(root)[1:] == [UP + ["ai-florence"]]
    # Nothing changed since: nothing is restarted.
    again = run_psot("apply", "--yes", cwd=root, env=env)
    assert "Nothing to apply" in again.stdout
    assert len(calls(root)) == 2


def test_rollback_recreates_the_service_with_the_previous_override(tmp_path: Path):
    root, env = project(tmp_path)
    run_psot("sync", cwd=root)
    run_psot("apply", "--yes", cwd=root, env=env)
    pin_florence(root)
    run_psot("sync", cwd=root)
    run_psot("apply", "--yes", cwd=root, env=env)
    back = run_psot("rollback", "--yes", cwd=root, env=env)
    assert back.returncode == 0, back.stderr
    previous = ".generated.psot-state/previous/compose/ws/docker-compose.gpu-override.yml"
    assert calls(root)[2] == UP[:3] + [previous] + UP[4:] + ["ai-florence"]
    # Applied now: ai-florence back on GPU 0. `previous` holds what the rollback undid, so a second rollback
    # goes forward again.
    assert florence_gpu(root / ".generated.psot-state/applied/compose/ws/docker-compose.gpu-override.yml") == ["0"]
    assert florence_gpu(root / previous) == ["1"]


def test_a_failing_compose_leaves_the_override_pending(tmp_path: Path):
    root, env = project(tmp_path)
    run_psot("sync", cwd=root)
    failed = run_psot("apply", "--yes", cwd=root, env=env | {"FAIL_COMPOSE": "1"})
    assert failed.returncode == 1
    assert "Apply failed at compose/ws/docker-compose.gpu-override.yml: 0 applied, 1 failed, 1 not run" \
        in failed.stderr
    status = run_psot("apply", "--status", cwd=root, env=env)
    assert status.returncode == 2
    assert "+ compose/ws/docker-compose.gpu-override.yml" in status.stdout
    # Fixed: the next apply resumes and runs it again.
    done = run_psot("apply", "--yes", cwd=root, env=env)
    assert done.returncode == 0
    assert len(calls(root)) == 2


def test_compose_over_ssh_uses_docker_host(tmp_path: Path):
    root, env = project(tmp_path)
    path = root / "infra.yml"
    path.write_text(path.read_text().replace("  ws:\n    platform: docker\n",
                                             "  ws:\n    platform: docker\n    ssh: admin@ws.lan\n"))
    run_psot("sync", cwd=root)
    dry = run_psot("apply", "--dry-run", cwd=root, env=env)
    assert "    $ DOCKER_HOST=ssh://admin@ws.lan podman-compose -f docker-compose.prod.yml" in dry.stdout


MIXED_HOSTS = """
project_name: t
global: {gpu_policy: shared}
domains: {}
hosts:
  dock:
    platform: docker
    gpus: {rtx: {vendor: nvidia, vram_gb: 12, index: 0, uuid: GPU-11111111-2222-3333-4444-555555555555}}
  pod:
    platform: podman
    compose: {file: [compose.yml, compose.gpu.yml]}
    gpus: {rtx: {vendor: nvidia, vram_gb: 12, index: 0}}
workloads:
  a: {target: compose, host: dock, service: web}
  b: {target: compose, host: pod, service: web}
"""


def test_each_host_applies_with_its_own_runtime_and_files(tmp_path: Path):
    """platform: docker -> `docker compose`, platform: podman -> podman-compose, in one infra.yml; each host's
    own files, in order, before its override."""
    (tmp_path / "infra.yml").write_text(MIXED_HOSTS)
    for name in ("docker-compose.yml", "compose.yml"):
        (tmp_path / name).write_text("services:\n  web: {image: busybox}\n")
    (tmp_path / "compose.gpu.yml").write_text("services: {}\n")
    assert run_psot("sync", cwd=tmp_path).returncode == 0
    dry = run_psot("apply", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    lines = [line.strip() for line in dry.stdout.splitlines() if line.strip().startswith("$")]
    assert lines == [
        "$ docker compose -f docker-compose.yml -f generated/compose/dock/docker-compose.gpu-override.yml up -d "
        "--force-recreate --no-deps -- web",
        "$ podman-compose -f compose.yml -f compose.gpu.yml -f generated/compose/pod/docker-compose.gpu-override.yml "
        "up -d --force-recreate --no-deps -- web",
    ]


def test_project_dir_reaches_docker_compose(tmp_path: Path):
    text = MIXED_HOSTS.replace("    platform: docker\n", "    platform: docker\n    compose: {project_dir: app}\n")
    (tmp_path / "infra.yml").write_text(text)
    for name in ("docker-compose.yml", "compose.yml", "compose.gpu.yml"):
        (tmp_path / name).write_text("services:\n  web: {image: busybox}\n")
    assert run_psot("sync", cwd=tmp_path).returncode == 0
    dry = run_psot("apply", "--dry-run", cwd=tmp_path)
    assert ("    $ docker compose --project-directory app -f docker-compose.yml -f "
            "generated/compose/dock/docker-compose.gpu-override.yml up -d --force-recreate --no-deps -- web"
            ) in dry.stdout.splitlines()
