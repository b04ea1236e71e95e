"""Hardware rules: DRV001/DRV002 (driver), PWR001 (power), STO001 (storage), REF004 (pool references).

The docstring examples are compiled by test_docstrings.py; these are the
variants they do not show, each with its exact finding, and the cases where
a rule must stay quiet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from generator.rules.storage import fmt_size

HEAD = """\
project_name: homelab
global: {gpu_policy: shared}
domains: {}
"""


@pytest.fixture
def infra_file(infra_file, monkeypatch):
    """conftest's fixture, run from the file's directory so findings name `infra.yml` as users see it."""
    def write(text: str) -> Path:
        path = infra_file(text)
        monkeypatch.chdir(path.parent)
        return Path(path.name)
    return write


def compiled(infra_file, text: str):
    return compile_infra(infra_file(HEAD + text), until="place")


def found(infra_file, text: str, *codes: str) -> list[str]:
    return [f.format() for f in compiled(infra_file, text).diag.findings if f.code in codes]


# --- DRV001 / DRV002 -------------------------------------------------------------------------

# Seed 000: the RTX 5070 Ti waits for a Blackwell driver; the GTX 970 takes every workload meanwhile.
SEED_000 = """\
hosts:
  pve:
    platform: docker
    psu_watts: 750
    gpus:
      rtx-5070-ti:
        vendor: nvidia
        model: GeForce RTX 5070 Ti
        vram_gb: 16
        index: 1
        architecture: blackwell
        driver: "550.144.03"
        tdp_watts: 285
      gtx-970:
        vendor: nvidia
        model: GeForce GTX 970
        vram_gb: 4
        index: 0
        architecture: maxwell
        driver: "550.144.03"
        tdp_watts: 145
workloads:
  plex: {target: compose, host: pve, model: {name: plex-transcoder, vram_gb: 0.5}}
  ollama: {target: compose, host: pve, model: {name: "llama3.2:3b", vram_gb: 3.4}}
"""


def test_seed_000_old_driver_makes_the_gpu_unavailable_and_workloads_fall_back(infra_file):
    result = compiled(infra_file, SEED_000)
    assert [f.format() for f in result.diag.findings if f.code.startswith(("DRV", "PWR"))] == [
        "infra.yml:15:17: warning[DRV001] pve/rtx-5070-ti (GeForce RTX 5070 Ti): driver 550.144.03 is older "
        "than 570.26, the minimum for Blackwell; the GPU is treated as unavailable and its workloads fall back "
        "to pve/gtx-970 (GeForce GTX 970). Install driver 575 or newer.",
    ]
    assert result.infra.gpus["pve/rtx-5070-ti"].status == "unavailable"
    assert result.infra.gpus["pve/rtx-5070-ti"].declared_status == "ok"
    assert {n: a.gpus for n, a in result.placement.assignments.items()} == {
        "ollama": ("pve/gtx-970",), "plex": ("pve/gtx-970",)}


def test_drv001_without_another_gpu_on_the_host(infra_file):
    text = """\
hosts:
  pve:
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, compute_capability: "12.0", driver: "565.77"}
"""
    assert found(infra_file, text, "DRV001") == [
        "infra.yml:7:86: warning[DRV001] pve/rtx-5070-ti: driver 565.77 is older than 570.26, the minimum for "
        "Blackwell; the GPU is treated as unavailable and no other GPU of host 'pve' can take its workloads. "
        "Install driver 575 or newer."]


def test_drv001_names_only_the_gpus_that_can_take_over(infra_file):
    text = """\
hosts:
  pve:
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, architecture: blackwell, driver: "550.144.03"}
      gtx-970: {vendor: nvidia, vram_gb: 4, architecture: maxwell, driver: "340.108"}
      rx-7900: {vendor: amd, vram_gb: 24, driver: "6.3.6"}
"""
    assert found(infra_file, text, "DRV001") == [
        "infra.yml:7:83: warning[DRV001] pve/rtx-5070-ti: driver 550.144.03 is older than 570.26, the minimum "
        "for Blackwell; the GPU is treated as unavailable and its workloads fall back to pve/rx-7900. "
        "Install driver 575 or newer.",
        # Maxwell has no recommended branch beyond its minimum: install the minimum.
        "infra.yml:8:76: warning[DRV001] pve/gtx-970: driver 340.108 is older than 346.46, the minimum for "
        "Maxwell; the GPU is treated as unavailable and its workloads fall back to pve/rx-7900. "
        "Install driver 346.46 or newer.",
    ]


def test_drv001_still_reports_a_gpu_declared_unavailable(infra_file):
    text = """\
hosts:
  pve:
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, architecture: blackwell, driver: "550.144.03", status: unavailable}
"""
    assert [line.split("] ")[0] for line in found(infra_file, text, "DRV001", "DRV002")] == [
        "infra.yml:7:83: warning[DRV001"]


@pytest.mark.parametrize("gpu", [
    '{vendor: amd, vram_gb: 24, architecture: rdna3, driver: "6.3.6"}',        # not NVIDIA
    '{vendor: nvidia, vram_gb: 4, architecture: kepler, driver: "390.157"}',   # no minimum in the table
    '{vendor: nvidia, vram_gb: 16, architecture: blackwell}',                  # no driver given
    '{vendor: nvidia, vram_gb: 16, architecture: blackwell, driver: "575"}',   # the recommended branch
    '{vendor: nvidia, vram_gb: 16, architecture: blackwell, driver: "580.65.06"}',
    '{vendor: nvidia, vram_gb: 24, architecture: ada, driver: "520.61.05"}',   # exactly the minimum
])
def test_drivers_not_reported(infra_file, gpu):
    text = f"hosts:\n  pve:\n    gpus:\n      card: {gpu}\n"
    assert found(infra_file, text, "DRV001", "DRV002") == []


def test_drv002_at_exactly_the_minimum_and_for_ampere(infra_file):
    text = """\
hosts:
  ws:
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, architecture: blackwell, driver: "570.26"}
      rtx-a5500: {vendor: nvidia, model: RTX A5500, vram_gb: 24, compute_capability: "8.6", driver: "450.80.02"}
"""
    assert found(infra_file, text, "DRV001", "DRV002") == [
        "infra.yml:7:83: warning[DRV002] ws/rtx-5070-ti: driver 570.26 runs Blackwell (minimum 570.26), but "
        "below the recommended 575 the GPU is treated as degraded: it gets a workload only when no other GPU "
        "fits it. Upgrade to driver 575 or newer.",
        "infra.yml:8:101: warning[DRV002] ws/rtx-a5500 (RTX A5500): driver 450.80.02 runs Ampere (minimum "
        "450.36.06), but below the recommended 455.23 the GPU is treated as degraded: it gets a workload only "
        "when no other GPU fits it. Upgrade to driver 455.23 or newer.",
    ]


# Products the tables list by PCI ID: the chip's first driver is the floor, the product's own listing the
# recommendation (generator/hardware/nvidia.py, SKUS).
SKU_HOST = """\
hosts:
  ws:
    gpus:
      rtx-5060-ti: {vendor: nvidia, vram_gb: 16, pci_id: "10de:2d04", architecture: blackwell, driver: "570.86.16"}
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, pci_id: "10de:2c05", architecture: blackwell, driver: "570.86.16"}
      rtx-pro-6000: {vendor: nvidia, vram_gb: 96, pci_id: "10de:2bb5", architecture: blackwell, driver: "575.51.03"}
"""


def test_a_product_below_its_chips_first_driver_is_unavailable_and_one_below_its_listing_degraded(infra_file):
    assert found(infra_file, SKU_HOST, "DRV001", "DRV002") == [
        "infra.yml:7:104: warning[DRV001] ws/rtx-5060-ti: driver 570.86.16 is older than 570.123.10, the first "
        "driver that knows the GB206 chip of the NVIDIA GeForce RTX 5060 Ti; the GPU is treated as unavailable "
        "and its workloads fall back to ws/rtx-5070-ti, ws/rtx-pro-6000. Install driver 575 or newer.",
        # Seed 003: the RTX 5070 Ti runs on 570.86.16, which lists the RTX 5080 of the same GB203 chip.
        "infra.yml:8:104: warning[DRV002] ws/rtx-5070-ti: driver 570.86.16 runs Blackwell (minimum 570.86.16 for "
        "its GB203 chip), but below the recommended 575 the GPU is treated as degraded: it gets a workload only "
        "when no other GPU fits it. Upgrade to driver 575 or newer.",
        "infra.yml:9:105: warning[DRV002] ws/rtx-pro-6000: driver 575.51.03 runs Blackwell (minimum 570.86.16 for "
        "its GB202 chip), but below 575.57.08, the first driver that lists the NVIDIA RTX PRO 6000 Blackwell "
        "Server Edition, the GPU is treated as degraded: it gets a workload only when no other GPU fits it. "
        "Upgrade to driver 575.57.08 or newer.",
    ]


def test_a_product_on_a_driver_that_lists_it_is_ok(infra_file):
    text = SKU_HOST.replace('"570.86.16"', '"570.124.04"').replace('"575.51.03"', '"575.57.08"')
    assert [f.split("]")[0] for f in found(infra_file, text, "DRV001", "DRV002")] == [
        "infra.yml:7:104: warning[DRV002", "infra.yml:8:104: warning[DRV002"]   # below 575 only


def test_drv002_quiet_for_a_gpu_declared_unavailable(infra_file):
    text = """\
hosts:
  ws:
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, architecture: blackwell, driver: "570.86.16", status: unavailable}
"""
    assert found(infra_file, text, "DRV001", "DRV002") == []


def test_degraded_gpu_is_used_only_when_no_ok_gpu_fits(infra_file):
    text = """\
hosts:
  pve:
    platform: docker
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 1, architecture: blackwell, driver: "570.86.16"}
      gtx-1650: {vendor: nvidia, vram_gb: 4, index: 0, architecture: turing, driver: "570.86.16"}
workloads:
  plex: {target: compose, host: pve, model: {name: plex-transcoder, vram_gb: 0.5}}
  ollama: {target: compose, host: pve, model: {name: "qwen2.5:7b", vram_gb: 6}}
"""
    # A Turing card beside the Blackwell one: both run on the open kernel modules (a Maxwell one could not, DRV003).
    result = compiled(infra_file, text)
    assert {n: a.gpus for n, a in result.placement.assignments.items()} == {
        "ollama": ("pve/rtx-5070-ti",), "plex": ("pve/gtx-1650",)}
    assert [f.code for f in result.diag.findings] == ["DRV002", "PLACE004"]


# --- PWR001 ----------------------------------------------------------------------------------

def test_seed_000_power_budget_passes(infra_file):
    assert found(infra_file, SEED_000, "PWR001") == []


@pytest.mark.parametrize("psu", [750, 537.5])
def test_pwr001_quiet_at_exactly_80_percent_or_below(infra_file, psu):
    # 285 + 145 = 430 W; 80% of 537.5 W is exactly 430 W.
    assert found(infra_file, SEED_000.replace("psu_watts: 750", f"psu_watts: {psu}"), "PWR001") == []


def test_pwr001_counts_only_gpus_with_tdp_and_says_which_are_missing(infra_file):
    text = """\
hosts:
  ws:
    psu_watts: 650
    gpus:
      rtx-a5500: {vendor: nvidia, vram_gb: 24, tdp_watts: 230}
      rtx-4090: {vendor: nvidia, vram_gb: 24, tdp_watts: 450.5}
      rtx-a400: {vendor: nvidia, vram_gb: 4}
  nas:
    gpus:
      arc-a380: {vendor: intel, vram_gb: 6, tdp_watts: 75}
"""
    assert found(infra_file, text, "PWR001") == [
        "infra.yml:6:16: warning[PWR001] ws: the GPUs draw 680.5 W together (rtx-a5500 230 W, rtx-4090 "
        "450.5 W; not counted, no tdp_watts: rtx-a400), more than 80% of the 650 W power supply (520 W); "
        "fit a larger PSU or lower the GPUs' power limits"]


def test_pwr001_quiet_without_psu_watts(infra_file):
    assert found(infra_file, SEED_000.replace("    psu_watts: 750\n", ""), "PWR001") == []


# --- STO001 ----------------------------------------------------------------------------------

STORAGE = """\
hosts:
  ws:
    platform: docker
    storage:
      fast: {size_gb: 100, free_gb: 10}
      bulk: {size_gb: 4000, free_gb: 1200.5}
    gpus:
      rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
"""


def test_sto001_several_models_share_a_pool_points_at_the_one_that_overflows(infra_file):
    text = STORAGE + """\
workloads:
  ai-clip: {target: compose, host: ws, model: {name: CLIP ViT-L, disk_gb: 1.7, pool: fast}}
  ai-llm: {target: compose, host: ws, model: {name: Nemotron-3-Nano-30B, disk_gb: 24, pool: fast}}
  ai-yolo26: {target: compose, host: ws, gpu: false, model: {name: YOLO26, disk_gb: 0.25, pool: fast}}
"""
    assert found(infra_file, text, "STO001") == [
        "infra.yml:14:83: error[STO001] ai-llm: pool 'fast' of host 'ws' has 10 GB free but its models need "
        "25.95 GB (ai-clip (CLIP ViT-L) 1.7 GB, ai-llm (Nemotron-3-Nano-30B) 24 GB, ai-yolo26 (YOLO26) 250 MB); "
        "free 15.95 GB there or set model.pool to 'bulk' (1200.5 GB free)"]


def test_sto001_model_without_pool_goes_to_the_only_pool(infra_file):
    text = """\
hosts:
  ws:
    storage:
      root: {size_gb: 20, free_gb: 0.5}
    gpus:
      rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
workloads:
  vllm: {target: compose, host: ws, model: {disk_gb: 0.7}}
"""
    assert found(infra_file, text, "STO001") == [
        "infra.yml:11:54: error[STO001] vllm: its model needs 700 MB on pool 'root' of host 'ws', which has "
        "500 MB free; free 200 MB there"]


@pytest.mark.parametrize("workload", [
    # Several pools and no `pool`: psot cannot tell which one holds it, so it is not counted.
    "{target: compose, host: ws, model: {disk_gb: 500}}",
    # Exactly what is free.
    "{target: compose, host: ws, model: {disk_gb: 10, pool: fast}}",
    # No host: a Kubernetes workload placement puts on a node.
    "{target: kubernetes, model: {disk_gb: 500, pool: fast}}",
    # No disk_gb.
    "{target: compose, host: ws, model: {name: Nemotron-3-Nano-30B, vram_gb: 21.7, pool: fast}}",
])
def test_sto001_quiet(infra_file, workload):
    text = STORAGE + f"workloads:\n  ai-llm: {workload}\n"
    assert found(infra_file, text, "STO001") == []


def test_sto001_quiet_for_a_pool_without_free_gb(infra_file):
    text = STORAGE.replace("{size_gb: 100, free_gb: 10}", "{size_gb: 100}") + \
        "workloads:\n  ai-llm: {target: compose, host: ws, model: {disk_gb: 500, pool: fast}}\n"
    assert found(infra_file, text, "STO001") == []


def test_sto001_error_stops_before_placement(infra_file):
    text = STORAGE + "workloads:\n  ai-llm: {target: compose, host: ws, model: {disk_gb: 5000, pool: bulk}}\n"
    result = compiled(infra_file, text)
    assert [f.format() for f in result.diag.findings] == [
        "infra.yml:13:56: error[STO001] ai-llm: its model needs 5000 GB on pool 'bulk' of host 'ws', which has "
        "1200.5 GB free; free 3799.5 GB there"]
    assert result.placement is None


@pytest.mark.parametrize("gb, text", [
    (0, "0 GB"), (2, "2 GB"), (1, "1 GB"), (23.549999, "23.55 GB"), (0.5, "500 MB"),
    (0.001, "1 MB"), (0.000028, "28 KB"), (0.0000285, "28.5 KB"), (-3, "0 GB"),
])
def test_fmt_size(gb, text):
    assert fmt_size(gb) == text


# --- REF004 ----------------------------------------------------------------------------------

def test_ref004_host_without_storage(infra_file):
    text = """\
hosts:
  ws:
    gpus:
      rtx-a5500: {vendor: nvidia, vram_gb: 24, index: 0}
workloads:
  ai-llm: {target: compose, host: ws, model: {disk_gb: 24, pool: fast}}
"""
    assert found(infra_file, text, "REF004", "STO001") == [
        "infra.yml:9:66: error[REF004] ai-llm: pool 'fast' is not defined: host 'ws' has no storage pools; "
        "add hosts.ws.storage.fast with its size_gb and free_gb"]


def test_ref004_lists_the_pools_when_no_name_is_close(infra_file):
    text = STORAGE + "workloads:\n  ai-llm: {target: compose, host: ws, model: {disk_gb: 24, pool: nvme}}\n"
    assert found(infra_file, text, "REF004", "STO001") == [
        "infra.yml:13:66: error[REF004] ai-llm: pool 'nvme' is not defined under hosts.ws.storage; "
        "define it there or use one of: fast, bulk"]


@pytest.mark.parametrize("workload", [
    "{target: kubernetes, model: {disk_gb: 24, pool: nvme}}",          # no host: not checked
    "{target: compose, host: wss, model: {disk_gb: 24, pool: nvme}}",  # undefined host: REF001 says so
])
def test_ref004_quiet(infra_file, workload):
    text = STORAGE + f"workloads:\n  ai-llm: {workload}\n"
    assert found(infra_file, text, "REF004") == []
