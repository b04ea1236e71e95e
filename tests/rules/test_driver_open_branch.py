"""DRV010 (driver_open_branch.py): the open kernel modules stated on a driver older than R515; beyond the
docstring example: several GPUs and drivers in one finding, a passthrough GPU exempt, what stays quiet."""

from __future__ import annotations

from generator.pipeline import compile_infra
from tests.rules import helpers

infra_file = helpers.infra_file

HOST = """\
project_name: homelab
global: {gpu_policy: shared}
domains: {}
hosts:
  pve:
    platform: proxmox
    iommu: true
    cpu_vendor: intel
    nvidia: {kernel_modules: FLAVOUR}
    gpus:
      rtx-2080: {vendor: nvidia, vram_gb: 8, index: 0, pci: "0000:01:00.0", architecture: turing, driver: "470.256.02"}
      rtx-2060: {vendor: nvidia, vram_gb: 6, index: 1, pci: "0000:02:00.0", architecture: turing, driver: "510.108.03"}
      t4: {vendor: nvidia, vram_gb: 16, index: 2, pci: "0000:03:00.0", architecture: turing, driver: "470.256.02"}
workloads:
  plex: {target: compose, host: pve, gpu: {vram_gb: 1}}
"""


def drv010(result) -> list[str]:
    return [f.format() for f in result.diag.findings if f.code == "DRV010"]


def test_every_older_driver_is_named_once_with_its_gpus(infra_file):
    result = compile_infra(infra_file(HOST.replace("FLAVOUR", "open")), until="place")
    assert drv010(result) == [
        "infra.yml:9:30: error[DRV010] host 'pve' states the open NVIDIA kernel modules (nvidia.kernel_modules), "
        "but its GPUs report driver 470.256.02 (rtx-2080, t4), 510.108.03 (rtx-2060), older than 515.43.04, the "
        "first release with the open modules; set kernel_modules: proprietary, or the GPUs' driver to the version "
        "the host runs (psot detect reads both)"]


def test_a_gpu_passed_through_runs_the_guests_driver_and_is_not_counted(infra_file):
    text = HOST.replace("FLAVOUR", "open").replace('"510.108.03"', '"535.183.01"') + (
        "  win: {target: proxmox, host: pve, vmid: 100, gpu: {pin: rtx-2080, passthrough: true}}\n"
        "  tts: {target: compose, host: pve, gpu: {pin: t4, passthrough: true, vram_gb: 1}}\n")
    assert drv010(compile_infra(infra_file(text), until="place")) == []


def test_quiet_for_the_proprietary_flavour_and_for_no_statement(infra_file):
    assert drv010(compile_infra(infra_file(HOST.replace("FLAVOUR", "proprietary")), until="place")) == []
    unstated = HOST.replace("    nvidia: {kernel_modules: FLAVOUR}\n", "")
    assert drv010(compile_infra(infra_file(unstated), until="place")) == []
