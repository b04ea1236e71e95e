"""DRV003 (driver_flavour_conflict.py): the NVIDIA GPUs a host drives need both kernel-module flavours.

Beyond the docstring example: the failing example examples/flavour-conflict (its header quotes `psot validate`
word for word), the acceptance case end to end, and the GPUs the rule does not count (passed through to a VM,
on vfio-pci, unavailable anyway, gone with `--without`, or on a host that states its flavour).
"""

from __future__ import annotations

import json

from generator.pipeline import compile_infra
from tests.conftest import EXAMPLES, run_psot
from tests.rules import helpers
from tests.rules.test_storage import documented_output

infra_file = helpers.infra_file

EXAMPLE = EXAMPLES / "flavour-conflict"

HEAD = "project_name: homelab\nglobal: {}\ndomains: {}\n"

SEED_000 = HEAD + """\
hosts:
  homelab:
    platform: docker
    gpus:
      rtx-5070-ti: {vendor: nvidia, model: GeForce RTX 5070 Ti, vram_gb: 16, index: 0, architecture: blackwell}
      gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 1, architecture: maxwell}
workloads:
  ollama: {target: compose, host: homelab, gpu: {vram_gb: 9.5}}
  plex: {target: compose, host: homelab, gpu: {vram_gb: 1}}
"""

CONFLICT = ("infra.yml:7:5: error[DRV003] host 'homelab' drives NVIDIA GPUs that no one kernel-module flavour "
            "runs: homelab/rtx-5070-ti (GeForce RTX 5070 Ti) needs the open modules (Blackwell), homelab/gtx-970 "
            "(GeForce GTX 970) needs the proprietary modules (Maxwell); a host loads one nvidia.ko. Pass one card "
            "through to a VM (gpu.passthrough), which runs its own driver, or take it out of the inventory; or set "
            "hosts.homelab.nvidia.kernel_modules to the flavour the host runs, and the GPUs it cannot drive become "
            "unavailable")

# The same machine as a Proxmox node whose 5070 Ti goes to a Windows VM through vfio-pci.
PASSED_THROUGH = HEAD + """\
hosts:
  homelab:
    platform: proxmox
    iommu: true
    cpu_vendor: amd
    gpus:
      rtx-5070-ti:
        vendor: nvidia
        model: GeForce RTX 5070 Ti
        vram_gb: 16
        index: 0
        pci: "0000:01:00.0"
        pci_id: "10de:2c05"
        architecture: blackwell
      gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 1, architecture: maxwell}
workloads:
  gaming: {target: proxmox, host: homelab, vmid: 100, gpu: {vram_gb: 12}}
  plex: {target: compose, host: homelab, gpu: {vram_gb: 1}}
"""


def drv003(path) -> list[str]:
    return [f.format() for f in compile_infra(path).diag.findings if f.code == "DRV003"]


def test_the_example_fails_with_the_findings_its_header_quotes():
    result = run_psot("validate", cwd=EXAMPLE)
    assert result.returncode == 1
    assert (result.stdout + result.stderr).splitlines() == documented_output((EXAMPLE / "infra.yml").read_text())


def test_validate_exits_1_naming_both_gpus_both_flavours_and_the_way_out(infra_file):
    infra_file(SEED_000)
    result = run_psot("validate", "infra.yml")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [CONFLICT]
    assert result.stderr == "1 error, 0 warnings.\n"


def test_the_same_host_with_the_5070_ti_passed_through_compiles(infra_file):
    infra_file(PASSED_THROUGH)
    result = run_psot("place", "infra.yml", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    placed = json.loads(result.stdout)
    assert {n: a["gpus"] for n, a in placed["assignments"].items()} == {
        "gaming": ["homelab/rtx-5070-ti"], "plex": ["homelab/gtx-970"]}
    assert [f["code"] for f in placed["findings"] if f["code"].startswith("DRV")] == []


def test_a_card_detect_found_on_vfio_pci_is_not_counted(infra_file):
    path = infra_file(SEED_000.replace("architecture: blackwell}", "architecture: blackwell, driver_in_use: vfio-pci}"))
    assert drv003(path) == []


def test_a_card_its_driver_cannot_run_is_not_counted(infra_file):
    # On 550 the 5070 Ti does not run at all (DRV001): the host's driver drives the 970 alone.
    path = infra_file(SEED_000.replace("architecture: blackwell}", 'architecture: blackwell, driver: "550.144.03"}')
                      .replace("architecture: maxwell}", 'architecture: maxwell, driver: "550.144.03"}'))
    assert drv003(path) == []


def test_a_card_declared_unavailable_is_not_counted(infra_file):
    path = infra_file(SEED_000.replace("architecture: maxwell}", "architecture: maxwell, status: unavailable}"))
    assert drv003(path) == []


def test_a_host_that_states_its_flavour_is_not_reported(infra_file):
    path = infra_file(SEED_000.replace("global: {}", "global: {gpu_policy: shared}")
                      .replace("    platform: docker\n", "    platform: docker\n    nvidia: {kernel_modules: open}\n"))
    result = compile_infra(path)
    assert result.ok
    assert [f.code for f in result.diag.findings] == ["DRV004", "GPU002"]
    assert {n: a.gpus for n, a in result.placement.assignments.items()} == {
        "ollama": ("homelab/rtx-5070-ti",), "plex": ("homelab/rtx-5070-ti",)}


def test_cards_that_run_on_either_flavour_never_conflict(infra_file):
    # Turing, Ampere, Ada and Hopper run on both; by compute capability as well as by name.
    path = infra_file(SEED_000.replace("gtx-970: {vendor: nvidia, model: GeForce GTX 970, vram_gb: 4, index: 1, "
                                       "architecture: maxwell}",
                                       'rtx-2060: {vendor: nvidia, vram_gb: 6, index: 1, compute_capability: "7.5"}'))
    assert drv003(path) == []


def test_gpus_of_other_vendors_and_unknown_architectures_are_not_counted(infra_file):
    path = infra_file(SEED_000.replace("architecture: maxwell}", "architecture: maxwell, vendor: amd}")
                      .replace("vendor: nvidia, model: GeForce GTX 970", "model: GeForce GTX 970"))
    assert drv003(path) == []
    path = infra_file(SEED_000.replace(", architecture: maxwell}", "}"))
    assert drv003(path) == []


def test_the_gpus_are_named_by_compute_capability_when_no_architecture_is_given(infra_file):
    path = infra_file(SEED_000.replace("architecture: blackwell}", 'compute_capability: "12.0"}')
                      .replace("architecture: maxwell}", 'compute_capability: "5.2"}'))
    assert drv003(path) == [CONFLICT]


def test_place_without_a_gone_card_reports_no_conflict(infra_file):
    infra_file(SEED_000)
    result = run_psot("place", "infra.yml", "--without", "gtx-970", "--format", "json")
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert "DRV003" not in codes and "PLACE008" in codes
