"""DRV005 (driver_last_branch.py): a driver newer than an architecture's last branch; the acceptance case end to
end (a GTX 970 on 590.x falls back, with a warning naming the 580 branch) and the cases that stay quiet."""

from __future__ import annotations

import json

from generator.pipeline import compile_infra
from tests.conftest import run_psot
from tests.rules import helpers

infra_file = helpers.infra_file

HOST = """\
project_name: homelab
global: {gpu_policy: shared}
domains: {}
hosts:
  ws:
    platform: docker
    gpus:
      gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 0, architecture: maxwell, driver: DRIVER}
      rtx-3060: {vendor: nvidia, model: GeForce RTX 3060, vram_gb: 12, index: 1, architecture: ampere, driver: DRIVER}
workloads:
  plex: {target: compose, host: ws, gpu: {vram_gb: 1, pin: gtx-970}}
"""


def test_a_gtx_970_on_590_falls_back_with_a_warning_naming_the_580_branch(infra_file):
    infra_file(HOST.replace("DRIVER", '"590.44.01"'))
    result = run_psot("place", "infra.yml", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    placed = json.loads(result.stdout)
    assert placed["assignments"]["plex"]["gpus"] == ["ws/rtx-3060"]
    assert placed["gpus"]["ws/gtx-970"]["status"] == "unavailable"
    assert run_psot("place", "infra.yml").stderr.splitlines() == [
        "infra.yml:8:110: warning[DRV005] ws/gtx-970 (GeForce GTX 970): driver 590.44.01 is newer than the R580 "
        "branch, the last that supports Maxwell; the GPU is treated as unavailable and its workloads fall back to "
        "ws/rtx-3060 (GeForce RTX 3060). Install a 580.x driver on the host, or pass the GPU through to a VM that "
        "runs one",
        "infra.yml:11:60: warning[PLACE003] plex is pinned to ws/gtx-970, which is unavailable; it falls back to "
        "ws/rtx-3060",
    ]


def test_every_580_driver_is_within_the_branch(infra_file):
    for driver in ('"580.65.06"', '"580.126.09"', '"580"'):
        result = compile_infra(infra_file(HOST.replace("DRIVER", driver)))
        assert [f.code for f in result.diag.findings] == [], driver


def test_kepler_ends_with_r470(infra_file):
    text = HOST.replace("gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 0, architecture: "
                        "maxwell, driver: DRIVER}",
                        'gtx-780: {vendor: nvidia, vram_gb: 3, index: 0, architecture: kepler, driver: "535.54.03"}')
    result = compile_infra(infra_file(text.replace("DRIVER", '"535.54.03"').replace("pin: gtx-970", "pin: rtx-3060")))
    assert result.ok
    assert [f.format() for f in result.diag.findings if f.code == "DRV005"] == [
        "infra.yml:8:85: warning[DRV005] ws/gtx-780: driver 535.54.03 is newer than the R470 branch, the last that "
        "supports Kepler; the GPU is treated as unavailable and its workloads fall back to ws/rtx-3060 (GeForce "
        "RTX 3060). Install a 470.x driver on the host, or pass the GPU through to a VM that runs one"]


def test_a_card_passed_through_keeps_its_vm_and_is_not_reported(infra_file):
    text = HOST.replace("DRIVER", '"590.44.01"').replace("platform: docker", "platform: proxmox\n    iommu: true") \
        .replace("plex: {target: compose, host: ws, gpu: {vram_gb: 1, pin: gtx-970}}",
                 "retro: {target: proxmox, host: ws, vmid: 100, gpu: {pin: gtx-970}}")
    result = compile_infra(infra_file(text.replace("index: 0,", 'index: 0, pci: "0000:02:00.0", pci_id: "10de:13c2",')))
    assert result.ok, [f.format() for f in result.diag.findings]
    assert result.placement.assignments["retro"].gpus == ("ws/gtx-970",)
    assert [f.code for f in result.diag.findings if f.code.startswith(("DRV", "PLACE"))] == []
