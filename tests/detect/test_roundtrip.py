"""Acceptance: what `psot detect` prints, pasted into infra.yml, compiles (seeds 000 and 001, a mixed host)."""

from __future__ import annotations

import itertools
import json
import socket

import pytest
import yaml
from click.testing import CliRunner

from generator.cli.detect import detect
from generator.detect import normalise
from generator.hardware.nvidia import OPEN_MODULES_FIRST_DRIVER
from generator.hardware.tables import version
from generator.model.core import PciFunction
from generator.pipeline import compile_infra
from tests.conftest import run_psot
from tests.detect.helpers import (
    APU,
    DRV003_SEED_000,
    FIXTURES,
    LISTINGS,
    MINIMAL_INFRA,
    MIXED,
    OUTPUTS,
    PVE,
    SEED_000,
    SEED_000_OPEN,
    SEED_001,
    completed,
    infra_around,
)


@pytest.mark.parametrize("host, files, expected", [
    ("homelab", SEED_000_OPEN, {
        "rtx-5070-ti": {"vendor": "nvidia", "model": "GeForce RTX 5070 Ti", "vram_gb": 16, "index": 0,
                        "pci": "0000:01:00.0", "pci_id": "10de:2c05", "architecture": "blackwell",
                        "compute_capability": "12.0", "driver": "575.64.03", "tdp_watts": 300,
                        "uuid": "GPU-5f0e6c1a-2b7d-4c39-9e84-1d2a3b4c5d6e", "subsystem_id": "1043:8a15",
                        "driver_in_use": "nvidia",
                        "functions": [{"pci": "0000:01:00.1", "pci_id": "10de:22e9", "class": "0403"}]},
        "gtx-970": {"vendor": "nvidia", "model": "GeForce GTX 970", "vram_gb": 4, "index": 1, "pci": "0000:02:00.0",
                    "pci_id": "10de:13c2", "architecture": "maxwell", "compute_capability": "5.2",
                    "driver": "575.64.03", "tdp_watts": 145, "uuid": "GPU-0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
                    "subsystem_id": "3842:2974", "driver_in_use": "nvidia",
                    "functions": [{"pci": "0000:02:00.1", "pci_id": "10de:0fbb", "class": "0403"}]}}),
    ("ws", SEED_001, {
        "rtx-a5500": {"vendor": "nvidia", "model": "RTX A5500", "vram_gb": 24, "index": 0, "pci": "0000:3b:00.0",
                      "architecture": "ampere", "compute_capability": "8.6", "driver": "550.127.05", "tdp_watts": 230,
                      "uuid": "GPU-7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"},
        "rtx-a400": {"vendor": "nvidia", "model": "RTX A400", "vram_gb": 4, "index": 1, "pci": "0000:af:00.0",
                     "architecture": "ampere", "compute_capability": "8.6", "driver": "550.127.05", "tdp_watts": 50,
                     "uuid": "GPU-3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"}}),
])
def test_seed_hosts_round_trip(host, files, expected, tmp_path):
    run = run_psot("detect", "--host", host, "--from", *map(str, files))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    block = yaml.safe_load(run.stdout)
    flavour = {"nvidia": {"kernel_modules": "open"}} if files is SEED_000_OPEN else {}
    assert block == {"hosts": {host: {**flavour, "gpus": expected}}}
    # On the open modules seed 000's GTX 970 is unavailable (DRV004): its pinned service falls back and shares
    # the 5070 Ti, which `shared` allows.
    result = compile_infra(infra_around(run.stdout, tmp_path, gpu_policy="shared" if flavour else "exclusive"))
    assert result.ok, [f.format() for f in result.diag.findings]
    assert sorted(result.infra.gpus) == sorted(f"{host}/{name}" for name in expected)
    assert any(f.code == "DRV004" and "homelab/gtx-970" in f.message for f in result.diag.findings) == bool(flavour)
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
    assert "hostpci0: mapping=pve-rtx-5070-ti,pcie=1" in result.tree["proxmox/pve/qemu-server/100.conf"].decode()
    assert "\tmap id=10de:2c05,node=pve,path=0000:01:00,subsystem-id=1043:8a15\n" in \
        result.tree["proxmox/mapping/pci.cfg"].decode()


def test_mixed_host_round_trip_leaves_the_intel_igpu_to_complete(tmp_path):
    run = run_psot("detect", "--host", "mixed", "--from", *map(str, MIXED))
    assert run.returncode == 0, run.stderr
    block = yaml.safe_load(run.stdout)
    assert list(block["hosts"]["mixed"]["gpus"]) == ["rtx-4090", "rx-7900-xtx"]
    assert "#   vendor: intel" in run.stdout and "#   vram_gb: <GB>  # its memory in GB" in run.stdout
    assert "warning[DETECT006]" in run.stderr
    result = compile_infra(infra_around(run.stdout, tmp_path))
    assert result.ok, [f.format() for f in result.diag.findings]
    # Uncommented and completed (VRAM; and for compose the /dev/dri/cardN index), the Intel entry compiles too.
    done = yaml.safe_load(completed(run.stdout, 2))
    intel = done["hosts"]["mixed"]["gpus"]["uhd-graphics-770"]
    assert intel == {"vendor": "intel", "model": "UHD Graphics 770", "vram_gb": 2, "pci": "0000:00:02.0",
                     "pci_id": "8086:4680", "subsystem_id": "1462:7d25", "driver_in_use": "i915"}
    intel.update(index=0)
    result = compile_infra(infra_around(yaml.safe_dump(done), tmp_path))
    assert result.ok, [f.format() for f in result.diag.findings]
    assert "mixed/uhd-graphics-770" in result.infra.gpus


LSPCI_ONLY = """\
# 2 GPUs of ws, detected by `psot detect` from lspci.
# Paste into infra.yml (merging with its `hosts:`) and set hosts.ws.platform.
hosts:
  ws:
    gpus: {}
    # Only lspci saw the GPUs below, and infra.yml requires a vram_gb no tool reported:
    # fill in vram_gb (and index, for compose), uncomment the `gpus:` lines and delete `gpus: {}`.
    # gpus:
    #   rtx-5070-ti:
    #     vendor: nvidia
    #     model: GeForce RTX 5070 Ti
    #     vram_gb: <GB>  # its memory in GB
    #     pci: '0000:01:00.0'
    #     pci_id: 10de:2c05
    #     architecture: blackwell
    #     subsystem_id: 1043:8a15
    #     driver_in_use: nvidia
    #     functions:
    #     - pci: '0000:01:00.1'
    #       pci_id: 10de:22e9
    #       class: '0403'
    #   gtx-970:
    #     vendor: nvidia
    #     model: GeForce GTX 970
    #     vram_gb: <GB>  # its memory in GB
    #     pci: '0000:02:00.0'
    #     pci_id: 10de:13c2
    #     architecture: maxwell
    #     subsystem_id: 3842:2974
    #     driver_in_use: nvidia
    #     functions:
    #     - pci: '0000:02:00.1'
    #       pci_id: 10de:0fbb
    #       class: '0403'
"""


def test_lspci_alone_prints_an_empty_gpus_mapping_and_the_gpus_to_complete(tmp_path):
    """No VRAM, no GPU in the block: `gpus: {}` is a real empty mapping, and the commented GPUs are a `gpus:`
    mapping of their own, so that uncommenting them cannot leave them under `{}` (which is YAML001)."""
    run = run_psot("detect", "--host", "ws", "--from", str(FIXTURES / "seed000-lspci.txt"))
    assert run.returncode == 0, run.stderr
    assert run.stdout == LSPCI_ONLY
    assert yaml.safe_load(run.stdout) == {"hosts": {"ws": {"gpus": {}}}}
    assert yaml.safe_load(completed(run.stdout, 16))["hosts"]["ws"]["gpus"] == {
        "rtx-5070-ti": {"vendor": "nvidia", "model": "GeForce RTX 5070 Ti", "vram_gb": 16, "pci": "0000:01:00.0",
                        "pci_id": "10de:2c05", "architecture": "blackwell", "subsystem_id": "1043:8a15",
                        "driver_in_use": "nvidia",
                        "functions": [{"pci": "0000:01:00.1", "pci_id": "10de:22e9", "class": "0403"}]},
        "gtx-970": {"vendor": "nvidia", "model": "GeForce GTX 970", "vram_gb": 16, "pci": "0000:02:00.0",
                    "pci_id": "10de:13c2", "architecture": "maxwell", "subsystem_id": "3842:2974",
                    "driver_in_use": "nvidia",
                    "functions": [{"pci": "0000:02:00.1", "pci_id": "10de:0fbb", "class": "0403"}]}}


def test_uncommented_without_the_vram_is_an_error_at_that_line(tmp_path):
    path = tmp_path / "infra.yml"
    text = completed(LSPCI_ONLY, 16).replace("vram_gb: 16  #", "vram_gb: <GB>  #", 1)
    path.write_text(MINIMAL_INFRA + text, encoding="utf-8")
    run = run_psot("validate", str(path))
    line = (MINIMAL_INFRA + text).splitlines().index("        vram_gb: <GB>  # its memory in GB") + 1
    assert run.returncode == 1
    # The value's column: 8 spaces and `vram_gb: ` before it.
    assert f"infra.yml:{line}:18: error[" in run.stdout, run.stdout


def test_uncommented_under_the_empty_mapping_left_in_place_is_a_located_duplicate(tmp_path):
    """Forgetting to delete `gpus: {}` gives a duplicate key that names the line, not a YAML001 parse error."""
    path = tmp_path / "infra.yml"
    text = LSPCI_ONLY.replace("    # gpus:", "    gpus:").replace("    #   ", "      ").replace("<GB>", "16")
    path.write_text(MINIMAL_INFRA + text, encoding="utf-8")
    run = run_psot("validate", cwd=tmp_path)
    assert run.returncode == 1
    # MINIMAL_INFRA's 3 lines, the block's 2 comment lines, hosts:, ws:, then `gpus: {}` at line 8.
    assert run.stdout == ("infra.yml:11:5: error[YAML002] duplicate key 'gpus' (first defined at line 8, column 5); "
                          "remove one of them\n"), run.stdout


# Each saved output alone, the hosts of the tests above, and combinations that leave some GPUs without VRAM.
PASTED = [[p] for p in OUTPUTS + LISTINGS] + [SEED_000, SEED_000_OPEN, SEED_001, MIXED, PVE, APU, OUTPUTS,
                                   [FIXTURES / "mixed-lspci.txt", FIXTURES / "mixed-nvidia-smi.csv"],
                                   [FIXTURES / "seed000-lspci.txt", FIXTURES / "rocm-smi-5-nobus.json"],
                                   [FIXTURES / "mixed-lspci.txt", FIXTURES / "rocm-smi-5-nobus.json"]]


@pytest.mark.parametrize("files", PASTED, ids=lambda files: "+".join(p.stem for p in files))
def test_what_detect_prints_pastes_below_a_minimal_infra_and_validates(files, tmp_path):
    """The acceptance check, as a user does it: the printed block, pasted as it is, and `psot validate`."""
    run = run_psot("detect", "--host", "ws", "--from", *map(str, files))
    assert run.returncode == 0, run.stderr
    (tmp_path / "infra.yml").write_text(MINIMAL_INFRA + run.stdout, encoding="utf-8")
    check = run_psot("validate", cwd=tmp_path)
    if impossible_host(run.stdout):
        # Seed 000's two cards on the host driver with no kernel modules stated: the impossible host, caught.
        assert check.returncode == 1, check.stdout + check.stderr
        assert DRV003_SEED_000 in check.stdout and check.stdout.count("error[") == 1, check.stdout
        return
    assert check.returncode == 0, check.stdout + check.stderr
    assert "error[" not in check.stdout


def impossible_host(block_text: str) -> bool:
    """Seed 000's pair in the block, both on the host driver, and no kernel-module flavour stated: DRV003."""
    hosts = yaml.safe_load(block_text)["hosts"]
    return any(not (spec.get("nvidia") or {}).get("kernel_modules")
               and {"rtx-5070-ti", "gtx-970"} <= {name for name, gpu in (spec.get("gpus") or {}).items()
                                                   if gpu.get("driver_in_use") != "vfio-pci"}
               for spec in hosts.values())


def open_modules_on_an_old_driver(block_text: str) -> bool:
    """A host whose block states the open kernel modules while a GPU reports a driver before them: DRV010."""
    hosts = yaml.safe_load(block_text)["hosts"]
    return any((spec.get("nvidia") or {}).get("kernel_modules") == "open"
               and any(gpu.get("vendor") == "nvidia" and gpu.get("driver")
                       and version(gpu["driver"]) < version(OPEN_MODULES_FIRST_DRIVER)
                       and gpu.get("driver_in_use") != "vfio-pci" for gpu in (spec.get("gpus") or {}).values())
               for spec in hosts.values())


def _combinations():
    every = sorted(OUTPUTS + LISTINGS)
    for size in (1, 2):
        yield from itertools.combinations(every, size)
    yield tuple(every)


@pytest.mark.parametrize("where", ["end", "before-domains"])
def test_every_combination_pastes_and_compiles_as_printed_and_once_completed(where, tmp_path):
    """Every fixture and every pair of them (and all together): the block pasted as it is compiles, with the
    GPUs it lists; completed as its note says, it compiles with every GPU detect saw."""
    runner = CliRunner()
    path = tmp_path / "infra.yml"
    for files in _combinations():
        run = runner.invoke(detect, ["--host", "ws", "--from", *map(str, files)])
        label = [p.name for p in files]
        assert run.exit_code == 0, (label, run.stderr)
        printed = json.loads(runner.invoke(detect, ["--host", "ws", "--format", "json", "--from",
                                                    *map(str, files)]).stdout)
        for text, names in ((run.stdout, [g["name"] for g in printed["gpus"] if g["complete"]]),
                            (completed(run.stdout, 8) if "<GB>" in run.stdout else run.stdout,
                             [g["name"] for g in printed["gpus"]])):
            head, tail = MINIMAL_INFRA.split("domains: {}\n")
            path.write_text(MINIMAL_INFRA + text if where == "end" else head + text + "domains: {}\n" + tail,
                            encoding="utf-8")
            result = compile_infra(path, until="validate")
            if open_modules_on_an_old_driver(text):
                # One machine's modinfo (open modules) with another's old driver: a host that cannot be, caught.
                errors = [f for f in result.diag.findings if f.severity == "error"]
                assert [f.code for f in errors] == ["DRV010"], (label, [f.format() for f in errors])
                continue
            if impossible_host(text):
                # Seed 000's two cards on the host driver with no kernel modules stated: the impossible host, caught.
                errors = [f for f in result.diag.findings if f.severity == "error"]
                assert [f.code for f in errors] == ["DRV003"], (label, [f.format() for f in errors])
                assert "ws/rtx-5070-ti (GeForce RTX 5070 Ti) needs the open modules" in errors[0].message, label
                assert "ws/gtx-970 (GeForce GTX 970) needs the proprietary modules" in errors[0].message, label
                continue
            assert result.ok, (label, text, [f.format() for f in result.diag.findings])
            assert sorted(result.infra.gpus) == sorted(f"ws/{name}" for name in names), label


def test_default_host_is_this_machines_short_name():
    run = run_psot("detect", "--from", *map(str, SEED_001))
    expected = normalise.host_name(socket.gethostname()) or "localhost"
    assert list(yaml.safe_load(run.stdout)["hosts"]) == [expected]


def test_output_is_deterministic_whatever_the_order_of_the_files():
    one = run_psot("detect", "--host", "h", "--from", *map(str, MIXED))
    other = run_psot("detect", "--host", "h", "--from", *map(str, reversed(MIXED)))
    assert one.stdout == other.stdout and one.returncode == other.returncode == 0


PVE_BLOCK = """\
# 2 GPUs of pve, detected by `psot detect` from nvidia-smi, lspci.
# Paste into infra.yml (merging with its `hosts:`) and set hosts.pve.platform.
hosts:
  pve:
    # gtx-970 (0000:02:00.0) is bound to vfio-pci: reserved for a VM, the host's own driver does not serve it.
    nvidia:
      kernel_modules: open
    gpus:
      rtx-5070-ti:
        vendor: nvidia
        model: GeForce RTX 5070 Ti
        vram_gb: 16
        index: 0
        pci: '0000:01:00.0'
        pci_id: 10de:2c05
        architecture: blackwell
        compute_capability: '12.0'
        driver: 575.64.03
        tdp_watts: 300
        uuid: GPU-5f0e6c1a-2b7d-4c39-9e84-1d2a3b4c5d6e
        subsystem_id: 1043:8a15
        driver_in_use: nvidia
        iommu_group: 13
        functions:
        - pci: '0000:01:00.1'
          pci_id: 10de:22e9
          class: '0403'
      # Only lspci saw the GPU below, and infra.yml requires a vram_gb no tool reported:
      # fill in vram_gb (and index, for compose), then uncomment it.
      # gtx-970:
      #   vendor: nvidia
      #   model: GeForce GTX 970
      #   vram_gb: <GB>  # its memory in GB
      #   pci: '0000:02:00.0'
      #   pci_id: 10de:13c2
      #   architecture: maxwell
      #   subsystem_id: 3842:2974
      #   driver_in_use: vfio-pci
      #   iommu_group: 14
      #   functions:
      #   - pci: '0000:02:00.1'
      #     pci_id: 10de:0fbb
      #     class: '0403'
"""


def test_a_proxmox_host_with_a_card_bound_to_vfio_and_its_iommu_groups(tmp_path):
    """Saved nvidia-smi, `lspci -nn -D -k -v`, an IOMMU listing and /proc/driver/nvidia/version: uuid, functions,
    iommu_group, subsystem_id, the driver in use and the kernel modules, in a block that pastes and compiles."""
    run = run_psot("detect", "--host", "pve", "--from", *map(str, PVE))
    assert run.returncode == 0, run.stderr
    assert run.stdout == PVE_BLOCK
    (tmp_path / "infra.yml").write_text(MINIMAL_INFRA + run.stdout, encoding="utf-8")
    check = run_psot("validate", cwd=tmp_path)
    assert check.returncode == 0 and "error[" not in check.stdout, check.stdout
    # Completed, on its Proxmox host, passing the GTX 970 through: the model carries every field.
    block = yaml.safe_load(completed(run.stdout, 4))
    block["hosts"]["pve"].update({"platform": "proxmox", "iommu": True, "cpu_vendor": "amd"})
    data = {"project_name": "seed-000", "global": {}, "domains": {}, "hosts": block["hosts"],
            "workloads": {"gaming": {"target": "proxmox", "host": "pve", "vmid": 100,
                                     "gpu": {"vram_gb": 3, "pin": "gtx-970"}}}}
    path = tmp_path / "infra.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = compile_infra(path)
    assert result.ok, [f.format() for f in result.diag.findings]
    rtx, gtx = result.infra.gpus["pve/rtx-5070-ti"], result.infra.gpus["pve/gtx-970"]
    assert (rtx.uuid, rtx.subsystem_id, rtx.iommu_group, rtx.driver_in_use, rtx.memory) == \
        ("GPU-5f0e6c1a-2b7d-4c39-9e84-1d2a3b4c5d6e", "1043:8a15", 13, "nvidia", None)
    assert gtx.functions == (PciFunction("0000:02:00.1", "10de:0fbb", "0403"),)
    assert (gtx.driver_in_use, gtx.iommu_group, gtx.uuid) == ("vfio-pci", 14, None)
    assert result.infra.hosts["pve"].nvidia_kernel_modules == "open"
    assert "hostpci0: mapping=pve-gtx-970,pcie=1" in result.tree["proxmox/pve/qemu-server/100.conf"].decode()


def test_an_apu_is_written_with_the_memory_it_can_address(tmp_path):
    run = run_psot("detect", "--host", "apu", "--from", *map(str, APU))
    assert run.returncode == 0 and run.stderr == "psot: 1 GPU of apu from amd-smi, rocm-smi, lspci; 0 errors, " \
                                                 "0 warnings.\n", run.stderr
    gpu = yaml.safe_load(run.stdout)["hosts"]["apu"]["gpus"]["780m-graphics"]
    assert (gpu["vram_gb"], gpu["memory"], gpu["iommu_group"]) == (31, "unified", 18)
    result = compile_infra(infra_around(run.stdout, tmp_path))
    assert result.ok, [f.format() for f in result.diag.findings]
    assert result.infra.gpus["apu/780m-graphics"].memory == "unified"
    assert result.infra.gpus["apu/780m-graphics"].vram_gb == 31
