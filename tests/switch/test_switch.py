"""`psot switch` on seed 000's gaming/ai homelab (examples/gpu-modes): the exact commands, in order, as stand-ins
for qm, docker, pvesh, the host's tools and the sysfs writes (`tee`) log them; the resume after a failure; the
active mode in `psot apply --status`; failover with `--without`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tests.conftest import run_psot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gpu-modes" / "infra.yml"
TOOLS = ("qm", "docker", "pvesh", "tee", "modprobe", "hostname", "install", "update-initramfs", "update-grub")
# Logs its name, its arguments and its standard input (the value a sysfs write gets); `hostname` says pve
# (or $SWITCH_HOSTNAME);
# exits 1 when its command line is $SWITCH_FAIL.
STUB = """#!/bin/sh
name=$(basename "$0")
line="$name $*"
input=""
case "$name" in tee|install) input=" <<< $(cat | tr '\\n' ' ' | sed 's/ *$//')";; esac
echo "$line$input" >> "$SWITCH_LOG"
[ "$name" = hostname ] && echo "${SWITCH_HOSTNAME:-pve}"
[ "$line" = "$SWITCH_FAIL" ] && exit 1
exit 0
"""

STOP_AI = [
    "docker compose -f docker-compose.yml stop -- ollama",
    "docker compose -f docker-compose.yml stop -- plex",
    "qm shutdown -- 100",
]
TO_NVIDIA = [
    "tee -- /sys/bus/pci/devices/0000:01:00.0/driver_override <<< nvidia",
    "tee -- /sys/bus/pci/devices/0000:01:00.0/driver/unbind <<< 0000:01:00.0",
    "tee -- /sys/bus/pci/devices/0000:01:00.1/driver_override <<< snd_hda_intel",
    "tee -- /sys/bus/pci/devices/0000:01:00.1/driver/unbind <<< 0000:01:00.1",
    "modprobe -- nvidia",
    "modprobe -- snd_hda_intel",
    "tee -- /sys/bus/pci/drivers_probe <<< 0000:01:00.0",
    "tee -- /sys/bus/pci/drivers_probe <<< 0000:01:00.1",
]
OVERRIDE = ".generated.psot-state/switch-tree/compose/pve/docker-compose.gpu-override.yml"
HOST_SIDE = {"pve/gtx-970": "host", "pve/rtx-5070-ti": "host"}
RECREATE = f"docker compose -f docker-compose.yml -f {OVERRIDE} up -d --force-recreate --no-deps -- ollama plex"


def homelab(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The example, synced and applied in its gaming mode, with the stand-ins first on PATH."""
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(EXAMPLE, root / "infra.yml")
    (root / "docker-compose.yml").write_text("services: {ollama: {image: ollama/ollama}, plex: {image: plex}}\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        (bin_dir / tool).write_text(STUB)
        (bin_dir / tool).chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "SWITCH_LOG": str(root / "calls.log"),
           "SWITCH_FAIL": ""}
    assert run_psot("sync", cwd=root).returncode == 0
    applied = run_psot("apply", "--yes", cwd=root, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    (root / "calls.log").unlink()
    return root, env


def calls(root: Path) -> list[str]:
    """What ran since the last look, without the `hostname` questions."""
    log = root / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [line for line in lines if line.strip() != "hostname"]


def commands(text: str) -> list[str]:
    return [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("$ ")]


def mode(root: Path) -> dict:
    return json.loads((root / ".generated.psot-state" / "mode.json").read_text())


def test_switch_ai_dry_run_stops_the_vm_moves_the_card_then_recreates_the_containers(tmp_path):
    root, env = homelab(tmp_path)
    done = run_psot("switch", "ai", "--dry-run", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if not line.startswith(" ")] == [
        "- stop compose ollama (pve/gtx-970 -> pve/rtx-5070-ti)",
        "- stop compose plex (pve/gtx-970 -> pve/rtx-5070-ti)",
        "- stop proxmox win11-gaming (pve/rtx-5070-ti -> no GPU)",
        "~ move pve/rtx-5070-ti (0000:01:00.0, 0000:01:00.1) from vfio-pci to nvidia",
        "~ compose/pve/docker-compose.gpu-override.yml",
        "~ placement.yml",
        "Dry run: 6 to switch; nothing was run.",
    ]
    shown = commands(done.stdout)
    assert shown[:3] == STOP_AI
    assert shown[3:11] == TO_NVIDIA
    assert shown[11] == RECREATE
    assert calls(root) == []
    as_json = run_psot("switch", "ai", "--dry-run", "--format", "json", cwd=root, env=env)
    units = json.loads(as_json.stdout)["units"]
    assert [u["commands"] for u in units[:3]] == [[c] for c in STOP_AI]
    assert units[3]["target"] == "switch" and len(units[3]["commands"]) == 8


def test_switch_ai_then_again_then_back_to_gaming(tmp_path):
    root, env = homelab(tmp_path)
    done = run_psot("switch", "ai", "--yes", cwd=root, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert calls(root) == [*STOP_AI, *TO_NVIDIA, RECREATE]
    assert mode(root) == {"psot": 1, "active": {"mode": "ai", "without": []},
                          "previous": {"mode": "gaming", "without": []}, "cards": HOST_SIDE}
    status = run_psot("apply", "--status", cwd=root, env=env)
    assert "Active GPU mode: ai." in status.stdout.splitlines()
    assert json.loads(run_psot("apply", "--status", "--format", "json", cwd=root, env=env).stdout)["mode"] == {
        "mode": "ai", "without": []}

    again = run_psot("switch", "ai", "--yes", cwd=root, env=env)
    assert (again.returncode, again.stdout) == (0, "Mode 'ai' is already active: nothing was run.\n")
    assert calls(root) == []

    # generated/ is still the gaming tree: apply would undo the switch by files alone, so it refuses.
    refused = run_psot("apply", "--yes", cwd=root, env=env)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        "psot: the machines are in mode 'ai' (psot switch) and generated/ is for 'gaming': run `psot switch "
        "gaming` to go back in order, or set global.mode to the active mode and `psot sync`; nothing was applied")

    back = run_psot("switch", "gaming", "--yes", cwd=root, env=env)
    assert back.returncode == 0, back.stdout + back.stderr
    ran = calls(root)
    assert ran[:2] == ["docker compose -f docker-compose.yml stop -- ollama",
                       "docker compose -f docker-compose.yml stop -- plex"]
    assert ran[2:9] == [
        "tee -- /sys/bus/pci/devices/0000:01:00.0/driver_override <<< vfio-pci",
        "tee -- /sys/bus/pci/devices/0000:01:00.0/driver/unbind <<< 0000:01:00.0",
        "tee -- /sys/bus/pci/devices/0000:01:00.1/driver_override <<< vfio-pci",
        "tee -- /sys/bus/pci/devices/0000:01:00.1/driver/unbind <<< 0000:01:00.1",
        "modprobe -- vfio-pci",
        "tee -- /sys/bus/pci/drivers_probe <<< 0000:01:00.0",
        "tee -- /sys/bus/pci/drivers_probe <<< 0000:01:00.1",
    ]
    # The VM's file and the host's vfio files were left applied by the switch to ai (no --clean-orphans): only
    # the override changes, and the VM starts last.
    assert ran[9:] == [RECREATE, "qm start -- 100"]
    assert mode(root)["active"] == {"mode": "gaming", "without": []}
    assert run_psot("apply", "--yes", cwd=root, env=env).stdout.startswith("Nothing to apply")


def test_a_failed_switch_resumes_from_the_step_that_failed(tmp_path):
    root, env = homelab(tmp_path)
    failed = run_psot("switch", "ai", "--yes", cwd=root, env=env | {"SWITCH_FAIL": "modprobe -- nvidia"})
    assert failed.returncode == 1
    assert calls(root) == [*STOP_AI, *TO_NVIDIA[:5]]
    assert mode(root)["switching"]["to"] == {"mode": "ai", "without": []}
    status = run_psot("apply", "--status", cwd=root, env=env)
    assert ("A switch from gaming to ai did not complete: run the same `psot switch` again to finish it."
            in status.stdout.splitlines())
    other = run_psot("switch", "gaming", "--yes", cwd=root, env=env)
    assert other.returncode == 1 and other.stderr.startswith(
        "psot: the switch from mode 'gaming' to mode 'ai' did not complete: run it again to finish it")
    resumed = run_psot("switch", "ai", "--yes", cwd=root, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    # The stops are not run again; the move runs again from its start (its unit failed), then the rest.
    assert calls(root) == [*TO_NVIDIA, RECREATE]
    assert mode(root) == {"psot": 1, "active": {"mode": "ai", "without": []},
                          "previous": {"mode": "gaming", "without": []}, "cards": HOST_SIDE}


def test_without_a_gpu_is_the_same_ordered_transition_and_switching_back_restores_it(tmp_path):
    root, env = homelab(tmp_path)
    done = run_psot("switch", "--without", "rtx-5070-ti", "--yes", cwd=root, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    # The VM loses its card and stops; nobody has the card now, so it stays on vfio-pci; the containers keep
    # the 970.
    assert calls(root) == ["qm shutdown -- 100", "qm set --delete hostpci0 -- 100"]
    assert mode(root)["active"] == {"mode": "gaming", "without": ["pve/rtx-5070-ti"]}
    assert mode(root)["cards"] == {"pve/gtx-970": "host", "pve/rtx-5070-ti": "vfio-pci"}
    back = run_psot("switch", "gaming", "--yes", cwd=root, env=env)
    assert back.returncode == 0, back.stdout + back.stderr
    # The card is still on vfio-pci (mode.json's `cards`): no move, the VM gets it back and starts.
    assert calls(root) == ["qm set --hostpci0 mapping=pve-rtx-5070-ti,pcie=1,x-vga=1 -- 100", "qm start -- 100"]
    assert mode(root)["active"] == {"mode": "gaming", "without": []}


def test_a_host_that_is_not_this_machine_is_refused_before_anything_runs(tmp_path):
    root, env = homelab(tmp_path)
    done = run_psot("switch", "ai", "--yes", cwd=root, env=env | {"SWITCH_HOSTNAME": "laptop.lan"})
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "psot: switch would fail: hosts.pve has no ssh and this machine is 'laptop', not 'pve': the switch would "
        "change the wrong machine's devices; set hosts.pve.ssh or run psot switch on pve; nothing was run.")
    assert calls(root) == []
    assert not (root / ".generated.psot-state" / "mode.json").exists()     # no switch is under way
