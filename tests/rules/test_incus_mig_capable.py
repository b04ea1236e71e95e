"""INC007 (incus_mig_capable.py): a MIG device placed on a GPU without MIG; beyond the docstring example:
a driver older than MIG on the card, a product listed without MIG, a capability without MIG products, and
the cards psot cannot judge."""

from __future__ import annotations

import pytest

from generator.pipeline import compile_infra
from tests.rules import helpers

infra_file = helpers.infra_file

TEXT = """\
project_name: lab
global: {}
domains:
  ai-tools:
    machines:
      llm:
        type: lxc
        gpu: {pin: card}
        devices:
          gpu: {type: gpu, gputype: mig, mig.gi: 1, mig.ci: 0}
hosts:
  lab:
    platform: incus
    gpus:
      card: {vendor: VENDOR, vram_gb: 40, pci: "0000:41:00.0"CARD}
"""


def inc007(infra_file, vendor: str, card: str) -> list[str]:
    result = compile_infra(infra_file(TEXT.replace("VENDOR", vendor).replace("CARD", card)))
    return [f.format() for f in result.diag.findings if f.code == "INC007"]


def test_a_driver_older_than_mig_on_the_card(infra_file):
    assert inc007(infra_file, "nvidia", ', pci_id: "10de:20b0", driver: "450.51.06"') == [
        "infra.yml:10:37: error[INC007] machine 'llm' device 'gpu' is gputype 'mig', but placement "
        "gave it lab/card, whose driver 450.51.06 predates MIG on the NVIDIA A100-SXM4-40GB (450.80.02); install "
        "driver 450.80.02 or newer"]


@pytest.mark.parametrize("card, kind", [
    (', pci_id: "10de:2b85"', " (Blackwell)"),              # RTX 5090: listed, no MIG
    (', compute_capability: "8.6"', " (Ampere)"),            # GA10x: Ampere, but not GA100
])
def test_cards_without_mig(infra_file, card, kind):
    assert inc007(infra_file, "nvidia", card) == [
        f"infra.yml:10:37: error[INC007] machine 'llm' device 'gpu' is gputype 'mig', but placement "
        f"gave it lab/card, which has no MIG{kind}; pin the machine to a MIG-capable GPU (A100, A30, H100, H200, "
        "B200, RTX PRO 6000 Blackwell), or use gputype physical to pass the whole card"]


def test_another_vendors_card(infra_file):
    assert inc007(infra_file, "amd", "") == [
        "infra.yml:10:37: error[INC007] machine 'llm' device 'gpu' is gputype 'mig', but placement "
        "gave it lab/card, which is not an NVIDIA GPU and has no MIG; pin the machine to a MIG-capable GPU (A100, "
        "A30, H100, H200, B200, RTX PRO 6000 Blackwell), or use gputype physical to pass the whole card"]


@pytest.mark.parametrize("card", [
    ', pci_id: "10de:20b0", driver: "535.183.01"',     # A100 on a driver with MIG
    ', architecture: hopper',                          # every Hopper product has MIG
    ', compute_capability: "8.0"',                     # GA100's capability
    "",                                                # nothing known: not judged
])
def test_quiet(infra_file, card):
    assert inc007(infra_file, "nvidia", card) == []
