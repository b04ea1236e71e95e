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
from generator.pipeline import compile_infra
from tests.conftest import run_psot
from tests.detect.helpers import FIXTURES, MINIMAL_INFRA, MIXED, OUTPUTS, SEED_000, SEED_001, completed, infra_around


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
    assert "#   vendor: intel" in run.stdout and "#   vram_gb: <GB>  # its memory in GB" in run.stdout
    assert "warning[DETECT006]" in run.stderr
    result = compile_infra(infra_around(run.stdout, tmp_path))
    assert result.ok, [f.format() for f in result.diag.findings]
    # Uncommented and completed (VRAM; and for compose the /dev/dri/cardN index), the Intel entry compiles too.
    done = yaml.safe_load(completed(run.stdout, 2))
    intel = done["hosts"]["mixed"]["gpus"]["uhd-graphics-770"]
    assert intel == {"vendor": "intel", "model": "UHD Graphics 770", "vram_gb": 2, "pci": "0000:00:02.0",
                     "pci_id": "8086:4680"}
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
    #   gtx-970:
    #     vendor: nvidia
    #     model: GeForce GTX 970
    #     vram_gb: <GB>  # its memory in GB
    #     pci: '0000:02:00.0'
    #     pci_id: 10de:13c2
    #     architecture: maxwell
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
                        "pci_id": "10de:2c05", "architecture": "blackwell"},
        "gtx-970": {"vendor": "nvidia", "model": "GeForce GTX 970", "vram_gb": 16, "pci": "0000:02:00.0",
                    "pci_id": "10de:13c2", "architecture": "maxwell"}}


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
PASTED = [[p] for p in OUTPUTS] + [SEED_000, SEED_001, MIXED, OUTPUTS,
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
    assert check.returncode == 0, check.stdout + check.stderr
    assert "error[" not in check.stdout


def _combinations():
    for size in (1, 2):
        yield from itertools.combinations(OUTPUTS, size)
    yield tuple(OUTPUTS)


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
