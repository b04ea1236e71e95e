"""The hardware tables: every row complete, the lookups agree with each other, ranges do not overlap,
and one more row is all a new GPU generation takes (a fake row is found by every lookup)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from generator.detect import normalise
from generator.hardware import driver_status, nvidia, tables
from generator.hardware.rows import Architecture, Sku, Vendor
from generator.pipeline import compile_infra

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")   # schemas/infra.schema.json $defs/name


def gaps(row: object) -> set[str]:
    """The columns of a row that are None or empty."""
    return {f.name for f in dataclasses.fields(row) if getattr(row, f.name) in (None, ())}


# The columns each vendor's architecture rows leave empty, and the rows that leave more, each with the
# reason their module gives. NVIDIA's last_driver_branch is None where the newest branches still drive it.
VENDOR_GAPS = {
    "nvidia": {"gfx_prefixes", "last_driver_branch"},
    "amd": {"compute_capability", "pci_devices", "minimum_driver", "recommended_driver", "last_driver_branch"},
    "intel": {"gfx_prefixes", "compute_capability", "pci_devices", "minimum_driver", "recommended_driver",
              "last_driver_branch"},
}
ROW_GAPS = {
    # Before Table 3 and not judged; no PCI ranges known; their last branches are known.
    ("nvidia", "fermi"): {"gfx_prefixes", "pci_devices", "minimum_driver", "recommended_driver"},
    ("nvidia", "kepler"): {"gfx_prefixes", "pci_devices", "minimum_driver", "recommended_driver"},
    # Last supported by R580.
    ("nvidia", "maxwell"): {"gfx_prefixes"},
    ("nvidia", "pascal"): {"gfx_prefixes"},
    ("nvidia", "volta"): {"gfx_prefixes"},
    # Named by gfx target only: psot knows no pci.ids code name for them.
    ("amd", "cdna4"): VENDOR_GAPS["amd"] | {"chips"},
    ("amd", "rdna3-5"): VENDOR_GAPS["amd"] | {"chips"},
}


@pytest.mark.parametrize("row", tables.ARCHITECTURES, ids=lambda r: f"{r.vendor}-{r.name}")
def test_every_architecture_row_is_complete(row: Architecture):
    assert gaps(row) == ROW_GAPS.get((row.vendor, row.name), VENDOR_GAPS[row.vendor])
    assert row.vendor in {v.key for v in tables.VENDORS}
    assert NAME.fullmatch(row.name) and row.display.strip() == row.display
    for pattern in row.chips:
        re.compile(pattern)
    if row.minimum_driver is not None:
        assert row.recommended_driver is not None
        assert tables.version(row.minimum_driver) <= tables.version(row.recommended_driver)


@pytest.mark.parametrize("row", tables.VENDORS, ids=lambda r: r.key)
def test_every_vendor_row_is_complete(row: Vendor):
    # NVIDIA: Compose reserves its GPUs with its own runtime driver, not CDI; nothing else is blacklisted.
    expected = {"cdi_device"} if row.compose_driver != "cdi" else set()
    if row.key != "nvidia":
        expected.add("always_blacklisted")
    assert gaps(row) == expected
    assert re.fullmatch(r"[0-9a-f]{4}", row.pci_vendor_id)
    assert NAME.fullmatch(row.key)


@pytest.mark.parametrize("row", tables.SKUS, ids=lambda r: f"{r.vendor}-{r.device:04x}")
def test_every_sku_row_is_complete_and_is_an_exception(row: Sku):
    arch = tables.architecture(row.vendor, row.architecture)
    assert arch is not None and arch.minimum_driver is not None
    assert (row.mig_instances is None) == (row.mig_minimum_driver is None)
    assert row.minimum_driver is not None or row.mig_instances is not None, "a SKU row needs a reason to exist"
    if row.minimum_driver is not None:   # an exception: the architecture's minimum is not enough
        assert tables.version(row.minimum_driver) > tables.version(arch.minimum_driver)
    if row.mig_minimum_driver is not None:
        assert tables.version(row.mig_minimum_driver) >= tables.version(arch.minimum_driver)


def test_names_devices_and_prefixes_are_unique():
    keys = [(r.vendor, r.name) for r in tables.ARCHITECTURES]
    assert len(keys) == len(set(keys))
    displays = [(r.vendor, r.display.lower()) for r in tables.ARCHITECTURES]
    assert len(displays) == len(set(displays))
    assert len({v.key for v in tables.VENDORS}) == len({v.pci_vendor_id for v in tables.VENDORS}) == 3
    skus = [(s.vendor, s.device) for s in tables.SKUS]
    assert len(skus) == len(set(skus))
    prefixes = [p for r in tables.ARCHITECTURES for p in r.gfx_prefixes]
    assert len(prefixes) == len(set(prefixes))


@pytest.mark.parametrize("vendor", [v.key for v in tables.VENDORS])
def test_ranges_do_not_overlap(vendor: str):
    rows = [r for r in tables.ARCHITECTURES if r.vendor == vendor]
    ccs = sorted(r.compute_capability for r in rows if r.compute_capability is not None)
    for low, high in ccs:
        assert low <= high
    for (_, high), (next_low, _) in zip(ccs, ccs[1:]):
        assert high < next_low
    ranges = sorted(span for r in rows for span in r.pci_devices)
    for low, high in ranges:
        assert 0 <= low <= high <= 0xFFFF
    for (_, high), (next_low, _) in zip(ranges, ranges[1:]):
        assert high < next_low


@pytest.mark.parametrize("row", tables.ARCHITECTURES, ids=lambda r: f"{r.vendor}-{r.name}")
def test_lookups_by_name_capability_pci_and_gfx_agree(row: Architecture):
    assert tables.architecture(row.vendor, row.name) is row
    assert tables.architecture(row.vendor, row.display.upper()) is row
    if row.compute_capability is not None:
        for major, minor in row.compute_capability:
            assert tables.by_compute_capability(row.vendor, f"{major}.{minor}") is row
    vendor_hex = tables.vendor(row.vendor).pci_vendor_id
    for low, high in row.pci_devices:
        for device in (low, high):
            assert tables.by_pci_id(row.vendor, f"{vendor_hex}:{device:04x}") is row
    for prefix in row.gfx_prefixes:
        assert tables.by_gfx(row.vendor, prefix + "x") is row


@pytest.mark.parametrize("row", tables.SKUS, ids=lambda r: f"{r.vendor}-{r.device:04x}")
def test_a_skus_architecture_is_the_one_its_pci_id_gives(row: Sku):
    pci_id = f"{tables.vendor(row.vendor).pci_vendor_id}:{row.device:04x}"
    assert tables.sku(row.vendor, pci_id) is row
    found = tables.by_pci_id(row.vendor, pci_id)
    assert found is not None and found.name == row.architecture


@pytest.mark.parametrize("vendor, chip, name", [
    ("nvidia", "GF108", "fermi"), ("nvidia", "GK104", "kepler"), ("nvidia", "GM204", "maxwell"),
    ("nvidia", "GP104", "pascal"), ("nvidia", "GV100", "volta"), ("nvidia", "TU104", "turing"),
    ("nvidia", "GA102GL", "ampere"), ("nvidia", "AD102", "ada"), ("nvidia", "GH100", "hopper"),
    ("nvidia", "gb203", "blackwell"),
    ("amd", "Navi 10", "rdna"), ("amd", "Navi 21", "rdna2"), ("amd", "Navi31", "rdna3"), ("amd", "Navi 48", "rdna4"),
    ("amd", "Vega 20", "vega"), ("amd", "Arcturus", "cdna"), ("amd", "Aldebaran", "cdna2"),
    ("amd", "Aqua Vanjaram", "cdna3"),
    ("intel", "DG2 [Arc A770]", "alchemist"), ("intel", "BMG G21", "battlemage"),
])
def test_lookup_by_chip_agrees_with_the_name(vendor, chip, name):
    assert tables.by_chip(vendor, chip) is tables.architecture(vendor, name)


@pytest.mark.parametrize("vendor, chip", [("nvidia", "GB"), ("nvidia", "XGB203"), ("amd", "GB203"),
                                          ("intel", "AlderLake-S GT1")])
def test_lookup_by_chip_gives_no_guess(vendor, chip):
    assert tables.by_chip(vendor, chip) is None


def test_capabilities_between_and_above_generations_go_to_the_older_one():
    assert [tables.by_compute_capability("nvidia", cc).name for cc in ("5.9", "7.4", "8.7", "12.1", "13.0")] == [
        "maxwell", "volta", "ampere", "blackwell", "blackwell"]
    assert tables.by_compute_capability("nvidia", "1.3") is None
    assert tables.by_compute_capability("amd", "9.0") is None


def test_pci_ids_of_another_vendor_or_outside_every_range_give_nothing():
    assert tables.by_pci_id("nvidia", "10de:0fff") is None
    assert tables.by_pci_id("amd", "10de:2c05") is None
    assert tables.by_pci_id("nvidia", "1002:2c05") is None
    assert tables.sku("nvidia", "10de:2c06") is None


def test_vendor_lookups():
    assert [tables.vendor_by_pci_id(h).key for h in ("10de", "1002", "8086")] == ["nvidia", "amd", "intel"]
    assert tables.vendor_by_pci_id("10DE") is None and tables.vendor_by_pci_id(None) is None
    with pytest.raises(KeyError):
        tables.vendor("any")


def test_compose_device_ids():
    assert [tables.vendor(v).compose_device_id(2) for v in ("nvidia", "amd", "intel")] == [
        "2", "amd.com/gpu=2", "intel.com/gpu=card2"]


# --- the facts issue 15 relies on, as the sources give them ----------------------------------------

def test_last_driver_branches():
    assert {r.name: r.last_driver_branch for r in nvidia.ARCHITECTURES} == {
        "fermi": 390, "kepler": 470, "maxwell": 580, "pascal": 580, "volta": 580, "turing": None,
        "ampere": None, "ada": None, "hopper": None, "blackwell": None}


def test_kernel_module_flavours_follow_the_gsp():
    """The open modules need a GSP (Turing and later); Blackwell runs only on them."""
    flavours = {r.name: r.kernel_modules for r in nvidia.ARCHITECTURES}
    assert flavours == {"fermi": ("proprietary",), "kepler": ("proprietary",), "maxwell": ("proprietary",),
                        "pascal": ("proprietary",), "volta": ("proprietary",),
                        "turing": ("open", "proprietary"), "ampere": ("open", "proprietary"),
                        "ada": ("open", "proprietary"), "hopper": ("open", "proprietary"), "blackwell": ("open",)}
    for row in nvidia.ARCHITECTURES:
        assert row.compute_capability is not None
        assert ("open" in row.kernel_modules) == (row.compute_capability[0] >= (7, 5))
        assert (row.last_driver_branch is None) == ("open" in row.kernel_modules)


def test_mig_instances():
    assert {s.name: s.mig_instances for s in tables.SKUS if s.mig_instances} == {
        "NVIDIA A100-SXM4-40GB": 7, "NVIDIA A100-SXM4-80GB": 7, "NVIDIA A100 80GB PCIe": 7,
        "NVIDIA A100-PCIE-40GB": 7, "NVIDIA A30": 4, "NVIDIA H100 80GB HBM3": 7, "NVIDIA H100 PCIe": 7,
        "NVIDIA H200": 7, "NVIDIA B200": 7, "NVIDIA RTX PRO 6000 Blackwell Workstation Edition": 4,
        "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition": 4,
        "NVIDIA RTX PRO 6000 Blackwell Server Edition": 4}
    assert all(tables.architecture("nvidia", s.architecture).compute_capability[0] >= (8, 0)
               for s in tables.SKUS if s.mig_instances)   # MIG starts with Ampere (compute capability 8.0)


def test_cuda_releases():
    releases = tables.CUDA_RELEASES
    for earlier, later in zip(releases, releases[1:]):
        assert tables.version(earlier.version) < tables.version(later.version)
        assert tables.version(earlier.minimum_driver) < tables.version(later.minimum_driver)
        assert earlier.lowest_compute_capability <= later.lowest_compute_capability
    assert tables.cuda("12.8").minimum_driver == "570.26"
    assert tables.cuda("13.0").minimum_driver == "580.65.06"
    assert tables.cuda("12.7") is None
    # CUDA 13 dropped Maxwell, Pascal and Volta: it builds for Turing and later only.
    lowest = tables.cuda("13.0").lowest_compute_capability
    assert [r.name for r in nvidia.ARCHITECTURES if r.compute_capability[1] >= lowest] == [
        "turing", "ampere", "ada", "hopper", "blackwell"]
    maxwell = tables.architecture("nvidia", "maxwell")
    assert tables.cuda("12.9").lowest_compute_capability == maxwell.compute_capability[0]


def test_every_minimum_driver_is_a_cuda_releases():
    """An architecture's minimum is the driver of the first CUDA release that builds for it."""
    for row in nvidia.ARCHITECTURES:
        if row.minimum_driver is None:
            continue
        release = next(r for r in tables.CUDA_RELEASES if r.minimum_driver == row.minimum_driver)
        assert release.lowest_compute_capability <= row.compute_capability[0]


def test_driver_status():
    assert driver_status.assess("nvidia", "blackwell", None, "565.77").status == "unavailable"
    assert driver_status.assess("nvidia", None, "12.0", "570.86.16").status == "degraded"
    found = driver_status.assess("nvidia", "Blackwell", None, "575")
    assert (found.status, found.architecture.display, found.minimum, found.recommended) == (
        "ok", "Blackwell", "570.26", "575")
    assert driver_status.assess("nvidia", "kepler", None, "340.108") is None     # not judged
    assert driver_status.assess("nvidia", None, "3.5", "340.108") is None
    assert driver_status.assess("amd", "rdna3", None, "6.3.6") is None
    assert driver_status.assess("nvidia", "gb203", "12.0", "575") is None        # a name the tables do not know
    assert driver_status.assess("nvidia", "blackwell", None, None) is None
    assert driver_status.worst("ok", "degraded") == "degraded"
    assert driver_status.worst("unavailable", "degraded", "ok") == "unavailable"


def test_detect_names_fermi_and_kepler_by_their_chip_only():
    assert normalise.architecture("nvidia", compute_cap="3.5") is None
    assert normalise.nvidia_architecture("Kepler") is None
    assert normalise.architecture("nvidia", compute_cap="3.5", chip="GK110B") == "kepler"


# --- one row is a new generation -------------------------------------------------------------------

RUBIN = Architecture(vendor="nvidia", name="rubin", display="Rubin", chips=(r"(?i)^GR\d",), gfx_prefixes=(),
                     compute_capability=((13, 0), (13, 0)), pci_devices=((0x3000, 0x30FF),),
                     minimum_driver="600.10", recommended_driver="605", last_driver_branch=None,
                     kernel_modules=("open",))
RUBIN_SKU = Sku(vendor="nvidia", device=0x3001, name="NVIDIA R200", architecture="rubin", chip="GR100",
                minimum_driver="600.20", mig_instances=7, mig_minimum_driver="600.20")


@pytest.fixture
def with_rubin(monkeypatch):
    monkeypatch.setattr(tables, "ARCHITECTURES", tables.ARCHITECTURES + (RUBIN,))
    monkeypatch.setattr(tables, "SKUS", tables.SKUS + (RUBIN_SKU,))


def test_a_fake_row_is_found_by_every_lookup(with_rubin):
    assert tables.architecture("nvidia", "rubin") is RUBIN
    assert tables.architecture("nvidia", "Rubin") is RUBIN
    assert tables.by_compute_capability("nvidia", "13.0") is RUBIN
    assert tables.by_compute_capability("nvidia", "12.1").name == "blackwell"
    assert tables.by_chip("nvidia", "GR100") is RUBIN
    assert tables.by_pci_id("nvidia", "10de:3001") is RUBIN
    assert tables.sku("nvidia", "10de:3001") is RUBIN_SKU
    assert driver_status.assess("nvidia", None, "13.0", "600.9").architecture is RUBIN
    assert driver_status.assess("nvidia", "rubin", None, "600.10").status == "degraded"
    assert normalise.architecture("nvidia", compute_cap="13.0") == "rubin"
    assert normalise.architecture("nvidia", chip="GR100") == "rubin"
    assert normalise.architecture("nvidia", pci_id_="10de:30ff") == "rubin"
    assert normalise.nvidia_architecture("Rubin") == "rubin"


def test_a_fake_row_reaches_the_driver_rules(with_rubin, infra_file, monkeypatch):
    path = infra_file("""\
        project_name: lab
        global: {}
        domains: {}
        hosts:
          ws:
            gpus:
              r200: {vendor: nvidia, vram_gb: 288, architecture: rubin, driver: "590.44.01"}
        """)
    monkeypatch.chdir(path.parent)
    result = compile_infra(Path(path.name), until="place")
    assert [f.format() for f in result.diag.findings if f.code.startswith("DRV")] == [
        "infra.yml:7:73: warning[DRV001] ws/r200: driver 590.44.01 is older than 600.10, the minimum for Rubin; "
        "the GPU is treated as unavailable and no other GPU of host 'ws' can take its workloads. "
        "Install driver 605 or newer."]
    assert result.infra.gpus["ws/r200"].status == "unavailable"


def test_a_fake_vendor_row_is_found_by_the_vendor_lookups(monkeypatch):
    fake = dataclasses.replace(tables.VENDORS[1], key="acme", name="Acme", pci_vendor_id="1234")
    monkeypatch.setattr(tables, "VENDORS", tables.VENDORS + (fake,))
    assert tables.vendor("acme") is fake
    assert tables.vendor_by_pci_id("1234") is fake
    assert normalise.vendor_of_id("1234") == "acme"


def test_a_chips_first_driver_is_the_lowest_listing_among_its_products():
    by_name = {row.name: row for row in tables.SKUS}
    assert tables.chip_minimum(by_name["NVIDIA GeForce RTX 5070 Ti"]) == "570.86.16"    # the RTX 5080's, GB203
    assert tables.chip_minimum(by_name["NVIDIA RTX PRO 6000 Blackwell Server Edition"]) == "570.86.16"  # GB202
    assert tables.chip_minimum(by_name["NVIDIA GeForce RTX 5060 Ti"]) == "570.123.10"   # alone on GB206
    assert tables.chip_minimum(by_name["NVIDIA A100-SXM4-40GB"]) is None                 # the architecture's
