"""Acceptance: what `psot detect` prints, pasted into infra.yml, compiles (seeds 000 and 001, a mixed host)."""

from __future__ import annotations

import socket

import pytest
import yaml

from generator.detect import normalise
from generator.pipeline import compile_infra
from tests.conftest import run_psot
from tests.detect.helpers import MIXED, SEED_000, SEED_001, infra_around


@pytest.mark.parametrize("host, files, expected", [
    ("homelab", SEED_000, {
        "rtx-5070-ti": {"vendor": "nvidia", "model": "GeForce RTX 5070 Ti", "vram_gb": 16, "index": 0,
                        "pci": "0000:01:00.0", "pci_id": "10de:2c05", "architecture": "blackwell",
                        "compute_capability": "12.0", "driver": "575.64.03", "tdp_watts": 300},
        "gtx-970": {"vendor": "nvidia", "model": "GeForce GTX 970", "vram_gb": 4, "index": 1, "pci": "0000:02:00.0",
                    "pci_id": "10de:13c2", "architecture": "maxwell", "compute_capability": "5.2",
                    "driver": "575.64.03", "tdp_watts": 145}}),
    ("ws", SEED_001, {
        "rtx-a5500": {"vendor": "nvidia", "model": "RTX A5500", "vram_gb": 24, "index": 0, "pci": "0000:3b:00.0",
                      "architecture": "ampere", "compute_capability": "8.6", "driver": "550.127.05", "tdp_watts": 230},
        "rtx-a400": {"vendor": "nvidia", "model": "RTX A400", "vram_gb": 4, "index": 1, "pci": "0000:af:00.0",
                     "architecture": "ampere", "compute_capability": "8.6", "driver": "550.127.05", "tdp_watts": 50}}),
])
def test_seed_hosts_round_trip(host, files, expected, tmp_path):
    run = run_psot("detect", "--host", host, "--from", *map(str, files))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    block = yaml.safe_load(run.stdout)
    assert block == {"hosts": {host: {"gpus": expected}}}
    result = compile_infra(infra_around(run.stdout, tmp_path))
    assert result.ok, [f.format() for f in result.diag.findings]
    assert sorted(result.infra.gpus) == sorted(f"{host}/{name}" for name in expected)
    assert result.tree and any(path.startswith(f"compose/{host}/") for path in result.tree)


def test_seed_000_on_its_proxmox_host_passes_the_5070_ti_through(tmp_path):
    """Seed 000: the detected pci and pci_id are what vfio-pci binding and hostpci need."""
    run = run_psot("detect", "--host", "pve", "--from", *map(str, SEED_000))
    block = yaml.safe_load(run.stdout)
    block["hosts"]["pve"].update({"platform": "proxmox", "iommu": True, "cpu_vendor": "amd"})
    data = {"project_name": "seed-000", "global": {}, "domains": {}, "hosts": block["hosts"],
            "workloads": {"gaming": {"target": "proxmox", "host": "pve", "vmid": 100,
                                     "gpu": {"vram_gb": 12, "pin": "rtx-5070-ti"}},
                          "plex": {"target": "compose", "host": "pve", "gpu": {"vram_gb": 2, "pin": "gtx-970"}}}}
    path = tmp_path / "infra.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = compile_infra(path)
    assert result.ok, [f.format() for f in result.diag.findings]
    vfio = result.tree["proxmox/pve/host/modprobe.d/vfio.conf"].decode()
    assert "10de:2c05" in vfio
    assert "hostpci0: 0000:01:00.0" in result.tree["proxmox/pve/qemu-server/100.conf"].decode()


def test_mixed_host_round_trip_leaves_the_intel_igpu_to_complete(tmp_path):
    run = run_psot("detect", "--host", "mixed", "--from", *map(str, MIXED))
    assert run.returncode == 0, run.stderr
    block = yaml.safe_load(run.stdout)
    assert list(block["hosts"]["mixed"]["gpus"]) == ["rtx-4090", "rx-7900-xtx"]
    assert "#   vendor: intel" in run.stdout and "#   vram_gb: <GB>" in run.stdout
    assert "warning[DETECT006]" in run.stderr
    result = compile_infra(infra_around(run.stdout, tmp_path))
    assert result.ok, [f.format() for f in result.diag.findings]
    # Uncommented and completed (VRAM; and for compose the /dev/dri/cardN index), the Intel entry compiles too.
    completed = yaml.safe_load("\n".join(line.replace("# ", "", 1) if line.startswith("      # ") else line
                                          for line in run.stdout.splitlines() if "VRAM unknown" not in line))
    intel = completed["hosts"]["mixed"]["gpus"]["uhd-graphics-770"]
    assert intel == {"vendor": "intel", "model": "UHD Graphics 770", "vram_gb": "<GB>", "pci": "0000:00:02.0",
                     "pci_id": "8086:4680"}
    intel.update(vram_gb=2, index=0)
    result = compile_infra(infra_around(yaml.safe_dump(completed), tmp_path))
    assert result.ok, [f.format() for f in result.diag.findings]
    assert "mixed/uhd-graphics-770" in result.infra.gpus


def test_default_host_is_this_machines_short_name():
    run = run_psot("detect", "--from", *map(str, SEED_001))
    expected = normalise.host_name(socket.gethostname()) or "localhost"
    assert list(yaml.safe_load(run.stdout)["hosts"]) == [expected]


def test_output_is_deterministic_whatever_the_order_of_the_files():
    one = run_psot("detect", "--host", "h", "--from", *map(str, MIXED))
    other = run_psot("detect", "--host", "h", "--from", *map(str, reversed(MIXED)))
    assert one.stdout == other.stdout and one.returncode == other.returncode == 0
