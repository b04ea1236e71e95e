"""Normalisation: PCI addresses, VRAM, models, architectures and names as infra.yml writes them."""

from __future__ import annotations

import pytest

from generator.detect import normalise as n


@pytest.mark.parametrize("text, expected", [
    ("00000000:3B:00.0", "0000:3b:00.0"),    # nvidia-smi: 8-digit domain, upper case
    ("0000:3b:00.0", "0000:3b:00.0"),        # lspci -D
    ("3b:00.0", "0000:3b:00.0"),             # lspci without -D
    ("0001:C1:1f.7", "0001:c1:1f.7"),
    ("10000:00:00.0", None),                 # a VMD domain: not writable in infra.yml's 4 digits
    ("0000:3b:20.0", None),                  # device numbers stop at 1f
    ("0000:3b:00.8", None),
    ("GPU-0000", None), ("", None), (None, None), (42, None),
])
def test_pci_address(text, expected):
    assert n.pci_address(text) == expected


@pytest.mark.parametrize("mib, gb", [
    (16303, 16),       # RTX 5070 Ti: nvidia-smi's memory.total of a 16 GB card
    (24564, 24),       # RTX A5500 (seed 001: vram_total_mb 24564)
    (4094, 4),         # RTX A400 (seed 001: 4094)
    (4096, 4), (65520, 64), (81559, 80),
    (15360, 15),       # a T4 gives 15 GiB to CUDA, and 15 is what it has
    (11264, 11),
    (512, 0.5),        # an APU's carve-out
    (12800, 12.5),
    (0, None), (-1, None), (None, None), (float("nan"), None), (float("inf"), None),
])
def test_vram_gb(mib, gb):
    assert n.vram_gb(mib) == gb


def test_vram_from_bytes_is_rocm_smis_unit():
    assert n.vram_gb_from_bytes(25753026560) == 24      # RX 7900 XTX as rocm-smi reports it


@pytest.mark.parametrize("text, model", [
    ("NVIDIA GeForce RTX 5070 Ti", "GeForce RTX 5070 Ti"),
    ("GeForce GTX 970", "GeForce GTX 970"),
    ("NVIDIA RTX A5500", "RTX A5500"),
    ("AMD Radeon RX 7900 XTX", "Radeon RX 7900 XTX"),
    ("Navi 31 [Radeon RX 7900 XT/7900 XTX]", "Radeon RX 7900 XT/7900 XTX"),
    ("NVIDIA GeForce RTX(TM) 5070", "GeForce RTX 5070"),
    ("N/A", None), ("  ", None), (None, None),
])
def test_model_name(text, model):
    assert n.model_name(text) == model


@pytest.mark.parametrize("model, vendor, pci_id, name", [
    ("GeForce RTX 5070 Ti", "nvidia", "10de:2c05", "rtx-5070-ti"),
    ("GeForce GTX 970", "nvidia", "10de:13c2", "gtx-970"),
    ("RTX A5500", "nvidia", "10de:2233", "rtx-a5500"),
    ("RTX A400", "nvidia", "10de:25b2", "rtx-a400"),
    ("Radeon RX 7900 XTX", "amd", "1002:744c", "rx-7900-xtx"),
    ("Instinct MI210", "amd", "1002:740f", "mi210"),
    ("UHD Graphics 770", "intel", "8086:4680", "uhd-graphics-770"),
    (None, "nvidia", "10de:2c05", "nvidia-2c05"),      # pci.ids does not know the card yet
    ("NVIDIA", "nvidia", None, "nvidia"),
    ("x" * 100, "nvidia", None, "x" * 63),
])
def test_gpu_name(model, vendor, pci_id, name):
    assert n.gpu_name(model, vendor, pci_id) == name
    assert n.NAME_PATTERN.fullmatch(name) and len(name) <= 63


def test_unique_names_suffix_in_order_and_avoid_taken():
    assert n.unique_names(["rtx-a5500", "rtx-a5500", "rtx-a400", "rtx-a5500"]) == \
        ["rtx-a5500", "rtx-a5500-2", "rtx-a400", "rtx-a5500-3"]
    assert n.unique_names(["gtx-970"], {"gtx-970"}) == ["gtx-970-2"]
    assert n.unique_names(["a" * 63, "a" * 63]) == ["a" * 63, "a" * 61 + "-2"]


@pytest.mark.parametrize("vendor, kwargs, arch", [
    ("nvidia", {"compute_cap": "12.0"}, "blackwell"),     # drivers.py's table, reused
    ("nvidia", {"compute_cap": "5.2"}, "maxwell"),
    ("nvidia", {"compute_cap": "8.6"}, "ampere"),
    ("nvidia", {"compute_cap": "8.9"}, "ada"),
    ("nvidia", {"chip": "GB203"}, "blackwell"),
    ("nvidia", {"chip": "GA102GL"}, "ampere"),
    ("nvidia", {"chip": "GM204"}, "maxwell"),
    ("nvidia", {"pci_id_": "10de:2c05"}, "blackwell"),   # RTX 5070 Ti
    ("nvidia", {"pci_id_": "10de:13c2"}, "maxwell"),     # GTX 970
    ("nvidia", {"pci_id_": "10de:2233"}, "ampere"),      # RTX A5500
    ("nvidia", {"pci_id_": "10de:25b2"}, "ampere"),      # RTX A400
    ("nvidia", {"pci_id_": "10de:2684"}, "ada"),         # RTX 4090
    ("nvidia", {"pci_id_": "10de:2330"}, "hopper"),      # H100
    ("nvidia", {"pci_id_": "10de:1db4"}, "volta"),       # V100
    ("nvidia", {"pci_id_": "10de:0fff"}, None),          # not in a known range: no guess
    ("amd", {"gfx": "gfx1100"}, "rdna3"),
    ("amd", {"gfx": "gfx90a"}, "cdna2"),
    ("amd", {"gfx": "gfx942"}, "cdna3"),
    ("amd", {"gfx": "gfx1201"}, "rdna4"),
    ("amd", {"chip": "Navi 31"}, "rdna3"),
    ("intel", {"chip": "DG2"}, "alchemist"),
    ("intel", {"chip": "AlderLake-S GT1"}, None),
])
def test_architecture(vendor, kwargs, arch):
    assert n.architecture(vendor, **kwargs) == arch


def test_nvidia_architecture_names_are_the_driver_tables():
    assert n.nvidia_architecture("Ada Lovelace") == "ada"
    assert n.nvidia_architecture("Blackwell") == "blackwell"
    assert n.nvidia_architecture("Kepler") is None


@pytest.mark.parametrize("text, version", [
    ("575.64.03", "575.64.03"), ("6.8.5-2041575.24.04", "6.8.5"), ("Linuxversion", None), ("", None), (None, None),
])
def test_driver_version(text, version):
    assert n.driver_version(text) == version


def test_host_name():
    assert n.host_name("Ws.lan") == "ws"
    assert n.host_name("my_box.example.com") == "my-box"
    assert n.host_name("___") is None
