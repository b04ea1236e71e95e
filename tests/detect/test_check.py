"""`psot detect --check INFRA`: missing GPUs and the fallback placement, new GPUs, changed VRAM/driver."""

from __future__ import annotations

import json
import re
import shutil

import yaml

from tests.conftest import SEED_001 as SEED_001_INFRA
from tests.conftest import run_psot
from tests.detect.helpers import FIXTURES, PVE, SEED_000, SEED_001, completed, fixture


def only_a5500(tmp_path):
    path = tmp_path / "nvidia-smi.csv"
    path.write_text(fixture("seed001-nvidia-smi.csv").splitlines()[0] + "\n")
    return path


def seed_001_infra(tmp_path, edit=None):
    path = tmp_path / "infra.yml"
    shutil.copy(SEED_001_INFRA, path)
    if edit:
        path.write_text(edit(path.read_text()))
    return path


def test_missing_gpu_shows_the_fallback_placement(tmp_path):
    """Seed 001: 'GPU removed/failed → service falls back'. The A400 is gone: its services move to the A5500."""
    run = run_psot("detect", "--check", str(seed_001_infra(tmp_path)), "--host", "ws",
                   "--from", str(only_a5500(tmp_path)))
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "1 missing, 0 new, 0 changed" in run.stdout
    assert "  - ws/rtx-a400 (RTX A400): not detected, treated as unavailable" in run.stdout
    assert "Without ws/rtx-a400: 2 consumers move" in run.stdout
    assert "  ai-enrichment: ws/rtx-a400 -> ws/rtx-a5500" in run.stdout
    assert "  ai-yolo26: ws/rtx-a400 -> ws/rtx-a5500" in run.stdout
    table = run.stdout[run.stdout.index("Strategy: vram_based"):]
    assert re.search(r"ws/rtx-a400\s+unavailable\s+\S+\s+0/4 GB\s+-", table)
    assert re.search(r"ai-enrichment\s+ws/rtx-a5500", table)
    # The finding points at the GPU in infra.yml, and the placement's own warnings follow the loss.
    assert re.search(r"infra\.yml:33:7: warning\[DETECT020\] ws/rtx-a400 \(RTX A400\) is in the inventory but not "
                     r"detected: treated as unavailable", run.stderr)
    # ... and what that placement would report is part of the report, not an error of infra.yml.
    assert "That placement would report:" in run.stdout and "warning[VRAM002]" in run.stdout
    assert "VRAM002" not in run.stderr


def test_missing_gpu_as_json(tmp_path):
    run = run_psot("detect", "--check", str(seed_001_infra(tmp_path)), "--host", "ws",
                   "--from", str(only_a5500(tmp_path)), "--format", "json")
    assert run.returncode == 2
    body = json.loads(run.stdout)
    assert body["in_sync"] is False and body["ok"] is True
    assert body["missing"] == ["ws/rtx-a400"] and body["without"] == ["ws/rtx-a400"]
    assert body["moves"] == [{"consumer": "ai-enrichment", "from": ["ws/rtx-a400"], "to": ["ws/rtx-a5500"]},
                             {"consumer": "ai-yolo26", "from": ["ws/rtx-a400"], "to": ["ws/rtx-a5500"]}]
    assert body["placement"]["gpus"]["ws/rtx-a400"]["consumers"] == []
    assert body["placement"]["assignments"]["ai-enrichment"]["gpus"] == ["ws/rtx-a5500"]
    assert body["matched"] == {"ws/rtx-a5500": "0000:3b:00.0"}
    assert [f["code"] for f in body["findings"] if f["code"].startswith("DETECT")] == ["DETECT020"]


def test_inventory_matching_the_machine_exits_0(tmp_path):
    run = run_psot("detect", "--check", str(seed_001_infra(tmp_path)), "--host", "ws", "--from", *map(str, SEED_001))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == f"Inventory of ws in {tmp_path / 'infra.yml'} matches what nvidia-smi report (2 GPUs).\n"


def test_the_only_host_is_checked_without_host(tmp_path):
    run = run_psot("detect", "--check", "infra.yml", "--from", *map(str, SEED_001), cwd=seed_001_infra(tmp_path).parent)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Inventory of ws in infra.yml matches")


def test_new_gpu_comes_as_a_block_with_a_name_of_its_own(tmp_path):
    extra = tmp_path / "nvidia-smi.csv"
    extra.write_text(fixture("seed001-nvidia-smi.csv")
                     + "2, NVIDIA RTX A400, 4094, 00000000:D8:00.0, 8.6, GPU-9, 550.127.05, 50.00\n")
    run = run_psot("detect", "--check", str(seed_001_infra(tmp_path)), "--host", "ws", "--from", str(extra))
    assert run.returncode == 2
    assert "  + 0000:d8:00.0 (RTX A400): new, as ws/rtx-a400-2" in run.stdout
    block = yaml.safe_load(run.stdout[run.stdout.index("# 1 GPU of ws"):])
    assert block == {"hosts": {"ws": {"gpus": {"rtx-a400-2": {
        "vendor": "nvidia", "model": "RTX A400", "vram_gb": 4, "index": 2, "pci": "0000:d8:00.0",
        "architecture": "ampere", "compute_capability": "8.6", "driver": "550.127.05", "tdp_watts": 50}}}}}
    assert "warning[DETECT021] 0000:d8:00.0 (RTX A400) is on ws but not in the inventory" in run.stderr


def test_changed_vram_driver_and_index_point_at_the_line_to_edit(tmp_path):
    infra = seed_001_infra(tmp_path, lambda text: text.replace(
        "        vram_gb: 24\n", "        vram_gb: 48\n        driver: \"535.54.03\"\n"))
    run = run_psot("detect", "--check", str(infra), "--host", "ws",
                   "--from", str(FIXTURES / "seed001-nvidia-smi-q.xml"))
    assert run.returncode == 2
    assert "  ~ ws/rtx-a5500: vram_gb 48 -> 24" in run.stdout
    assert "  ~ ws/rtx-a5500: driver 535.54.03 -> 550.127.05" in run.stdout
    lines = infra.read_text().splitlines()
    vram = next(f for f in run.stderr.splitlines() if "DETECT022" in f)
    driver = next(f for f in run.stderr.splitlines() if "DETECT023" in f)
    assert "vram_gb: 48" in lines[int(vram.split(":")[1]) - 1] and "set vram_gb: 24" in vram
    assert "driver:" in lines[int(driver.split(":")[1]) - 1] and 'set driver: "550.127.05"' in driver


def test_index_shift_after_a_card_is_removed(tmp_path):
    """With the A5500 gone, nvidia-smi numbers the A400 0: compose's device_ids must follow."""
    a400_alone = tmp_path / "nvidia-smi.csv"
    a400_alone.write_text("0" + fixture("seed001-nvidia-smi.csv").splitlines()[1][1:] + "\n")
    run = run_psot("detect", "--check", str(seed_001_infra(tmp_path)), "--host", "ws", "--from", str(a400_alone))
    assert run.returncode == 2
    assert "  - ws/rtx-a5500 (RTX A5500): not detected" in run.stdout
    assert "  ~ ws/rtx-a400: index 1 -> 0" in run.stdout
    assert "DETECT025" in run.stderr and "Without ws/rtx-a5500: " in run.stdout


def test_a_different_card_in_the_same_slot(tmp_path):
    """Seed 000's host after the 5070 Ti was swapped for an RTX 4090 in the same slot."""
    infra = tmp_path / "infra.yml"
    shutil.copy(FIXTURES.parent.parent.parent / "infra.yml", infra)
    csv = tmp_path / "nvidia.csv"
    csv.write_text("1, NVIDIA GeForce RTX 4090, 24564, 00000000:01:00.0, 8.9, GPU-4, 575.64.03, 450.00\n"
                   "0, NVIDIA GeForce GTX 970, 4096, 00000000:02:00.0, 5.2, GPU-9, 575.64.03, 145.00\n")
    lspci = tmp_path / "lspci.txt"
    lspci.write_text(fixture("seed000-lspci.txt").replace("GB203 [GeForce RTX 5070 Ti] [10de:2c05]",
                                                          "AD102 [GeForce RTX 4090] [10de:2684]"))
    run = run_psot("detect", "--check", str(infra), "--host", "homelab", "--from", str(csv), str(lspci))
    assert run.returncode == 2
    assert "  ~ homelab/rtx-5070-ti: pci_id 10de:2c05 -> 10de:2684" in run.stdout
    assert "  ~ homelab/rtx-5070-ti: vram_gb 16 -> 24" in run.stdout
    assert "warning[DETECT024] homelab/rtx-5070-ti: the card at 0000:01:00.0 is 10de:2684, not 10de:2c05" in run.stderr


def test_a_vendor_no_tool_that_ran_can_see_is_not_called_missing(tmp_path):
    infra = seed_001_infra(tmp_path, lambda text: text.replace(
        "      rtx-a400:\n", "      w7900:\n        vendor: amd\n        vram_gb: 48\n        index: 0\n"
                            "      rtx-a400:\n"))
    run = run_psot("detect", "--check", str(infra), "--host", "ws", "--from", *map(str, SEED_001))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "warning[DETECT026] ws/w7900 not checked: no tool that ran (nvidia-smi) sees amd GPUs" in run.stderr


def test_which_host_when_this_machine_is_not_in_the_inventory(tmp_path):
    infra = tmp_path / "infra.yml"
    shutil.copy(FIXTURES.parent.parent.parent / "infra.yml", infra)
    run = run_psot("detect", "--check", str(infra), "--from", *map(str, SEED_000))
    assert run.returncode == 1
    assert "error[DETECT027]" in run.stderr and "pass --host, one of: homelab, k8s-1, lab, pve" in run.stderr
    run = run_psot("detect", "--check", str(infra), "--host", "nowhere", "--from", *map(str, SEED_000))
    assert run.returncode == 1 and "--host nowhere: no such host" in run.stderr


def test_an_infra_with_errors_is_not_compared(tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text("project_name: x\nglobal: {}\ndomains: {}\nhosts: {ws: {gpus: {a: {vendor: nvidia}}}}\n")
    run = run_psot("detect", "--check", str(infra), "--host", "ws", "--from", *map(str, SEED_001))
    assert run.returncode == 1
    assert "error[SCHEMA001]" in run.stderr and "nothing was compared" in run.stderr
    assert run.stdout == ""


def test_a_card_on_the_bus_its_driver_does_not_run_falls_back_like_a_missing_one(tmp_path):
    """Seed 003's 'detected but unusable': lspci sees the 5070 Ti, nvidia-smi lists only the GTX 970.

    The default infra.yml keeps the 970 on pve (one host cannot drive both: DRV003), so on homelab it is new.
    """
    infra = tmp_path / "infra.yml"
    shutil.copy(FIXTURES.parent.parent.parent / "infra.yml", infra)
    csv = tmp_path / "nvidia.csv"
    csv.write_text("0, NVIDIA GeForce GTX 970, 4096, 00000000:02:00.0, 5.2, GPU-9, 575.64.03, 145.00\n")
    run = run_psot("detect", "--check", str(infra), "--host", "homelab", "--from", str(csv),
                   str(FIXTURES / "seed000-lspci.txt"))
    assert run.returncode == 2, run.stderr
    assert "0 missing, 1 new, 0 changed, 1 unusable" in run.stdout
    assert ("  ! homelab/rtx-5070-ti (GeForce RTX 5070 Ti): on the bus, but nvidia-smi does not list it: treated as "
            "unavailable") in run.stdout
    assert "  + 0000:02:00.0 (GeForce GTX 970, 10de:13c2): new, as homelab/gtx-970" in run.stdout
    assert "Without homelab/rtx-5070-ti: 1 consumer moves\n  ollama: homelab/rtx-5070-ti -> (no GPU)" in run.stdout
    assert re.search(r"homelab/rtx-5070-ti\s+unavailable", run.stdout)
    assert "warning[DETECT010]" in run.stderr and "warning[DETECT020] homelab/rtx-5070-ti" in run.stderr
    assert "warning[DETECT021] 0000:02:00.0 (GeForce GTX 970, 10de:13c2) is on homelab" in run.stderr
    body = json.loads(run_psot("detect", "--check", str(infra), "--host", "homelab", "--format", "json", "--from",
                               str(csv), str(FIXTURES / "seed000-lspci.txt")).stdout)
    assert body["unusable"] == ["homelab/rtx-5070-ti"] and body["without"] == ["homelab/rtx-5070-ti"]


def pve_inventory(tmp_path, edit=None):
    """Seed 000's machine as a Proxmox host, its inventory pasted from what detect printed of PVE's outputs (the
    GTX 970's VRAM filled in), the 970 passed through to a VM."""
    run = run_psot("detect", "--host", "pve", "--from", *map(str, PVE))
    text = completed(run.stdout, 4)
    block = yaml.safe_load(text)
    block["hosts"]["pve"].update({"platform": "proxmox", "iommu": True, "cpu_vendor": "amd"})
    data = {"project_name": "seed-000", "global": {}, "domains": {}, "hosts": block["hosts"],
            "workloads": {"gaming": {"target": "proxmox", "host": "pve", "vmid": 100,
                                     "gpu": {"vram_gb": 3, "pin": "gtx-970"}}}}
    path = tmp_path / "infra.yml"
    text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(edit(text) if edit else text)
    return path


def test_an_inventory_with_every_detected_field_matches_its_machine(tmp_path):
    run = run_psot("detect", "--check", str(pve_inventory(tmp_path)), "--host", "pve", "--from", *map(str, PVE))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == (f"Inventory of pve in {tmp_path / 'infra.yml'} matches what nvidia-smi, lspci report "
                          "(2 GPUs).\n")


def test_another_uuid_subsystem_and_iommu_group_point_at_their_lines(tmp_path):
    infra = pve_inventory(tmp_path, lambda text: text.replace("GPU-5f0e6c1a-2b7d-4c39-9e84-1d2a3b4c5d6e",
                                                              "GPU-00000000-2b7d-4c39-9e84-1d2a3b4c5d6e")
                          .replace("1043:8a15", "1043:8a11").replace("iommu_group: 13", "iommu_group: 12"))
    run = run_psot("detect", "--check", str(infra), "--host", "pve", "--from", *map(str, PVE))
    assert run.returncode == 2, run.stderr
    assert "0 missing, 0 new, 1 changed" in run.stdout
    assert ("  ~ pve/rtx-5070-ti: uuid GPU-00000000-2b7d-4c39-9e84-1d2a3b4c5d6e -> "
            "GPU-5f0e6c1a-2b7d-4c39-9e84-1d2a3b4c5d6e") in run.stdout
    assert "  ~ pve/rtx-5070-ti: subsystem_id 1043:8a11 -> 1043:8a15" in run.stdout
    assert "  ~ pve/rtx-5070-ti: iommu_group 12 -> 13" in run.stdout
    lines = infra.read_text().splitlines()
    for code, key in (("DETECT030", "uuid:"), ("DETECT031", "subsystem_id:"), ("DETECT032", "iommu_group:")):
        found = next(f for f in run.stderr.splitlines() if f"[{code}]" in f)
        assert key in lines[int(found.split(":")[1]) - 1], (code, found)
    assert ("warning[DETECT032] pve/rtx-5070-ti: infra.yml says IOMMU group 12, the machine puts it in group 13"
            in run.stderr)


def test_a_card_meant_for_a_vm_that_the_host_took_back(tmp_path):
    """The GTX 970 is no longer held by vfio-pci: nvidia runs it, so nvidia-smi lists it too."""
    lspci = tmp_path / "lspci.txt"
    lspci.write_text(fixture("pve-lspci.txt").replace("Kernel driver in use: vfio-pci\n\tKernel modules: nouveau",
                                                      "Kernel driver in use: nvidia\n\tKernel modules: nouveau", 1))
    csv = tmp_path / "nvidia.csv"
    csv.write_text(fixture("pve-nvidia-smi.csv") + "1, NVIDIA GeForce GTX 970, 4096, 00000000:02:00.0, 5.2, "
                   "GPU-0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d, 575.64.03, 145.00\n")
    run = run_psot("detect", "--check", str(pve_inventory(tmp_path)), "--host", "pve",
                   "--from", str(csv), str(lspci), *map(str, PVE[2:]))
    assert run.returncode == 2, run.stderr
    assert "  ~ pve/gtx-970: driver_in_use vfio-pci -> nvidia" in run.stdout
    assert ("warning[DETECT033] pve/gtx-970: infra.yml says it is bound to vfio-pci, for a VM, but nvidia holds it: "
            "the host took it back (vfio-pci did not claim it at boot); bind it to vfio-pci again, or set "
            "driver_in_use: nvidia") in run.stderr


def test_the_hosts_kernel_modules_against_what_it_runs(tmp_path):
    infra = pve_inventory(tmp_path, lambda text: text.replace("kernel_modules: open", "kernel_modules: proprietary"))
    run = run_psot("detect", "--check", str(infra), "--host", "pve", "--from", *map(str, PVE))
    assert run.returncode == 2, run.stderr
    assert "0 missing, 0 new, 0 changed, 1 host setting changed" in run.stdout
    assert "  ~ pve: nvidia.kernel_modules proprietary -> open" in run.stdout
    finding = next(f for f in run.stderr.splitlines() if "[DETECT034]" in f)
    assert "kernel_modules: proprietary" in infra.read_text().splitlines()[int(finding.split(":")[1]) - 1]
    body = json.loads(run_psot("detect", "--check", str(infra), "--host", "pve", "--format", "json",
                               "--from", *map(str, PVE)).stdout)
    assert body["in_sync"] is False and body["changed"] == []
    assert body["host_changed"] == [{"host": "pve", "field": "nvidia.kernel_modules", "inventory": "proprietary",
                                     "detected": "open"}]
    # Without /proc/driver/nvidia/version, nothing says what runs: nothing to compare.
    run = run_psot("detect", "--check", str(infra), "--host", "pve", "--from", *map(str, PVE[:3]))
    assert run.returncode == 0, run.stdout + run.stderr
