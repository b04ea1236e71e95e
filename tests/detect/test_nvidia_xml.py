"""nvidia-smi -q -x (fixtures written from nvsmi_device_v12.dtd and its predecessors)."""

from __future__ import annotations

from generator.detect import nvidia_xml
from tests.detect.helpers import fixture


def test_seed_001_host():
    parsed = nvidia_xml.parse(fixture("seed001-nvidia-smi-q.xml"), "q.xml")
    assert parsed.findings == []
    a5500, a400 = parsed.gpus
    assert (a5500.pci, a5500.pci_id, a5500.model, a5500.vram_gb, a5500.index, a5500.architecture, a5500.driver,
            a5500.tdp_watts) == ("0000:3b:00.0", "10de:2233", "RTX A5500", 24, 0, "ampere", "550.127.05", 230)
    assert (a400.pci, a400.pci_id, a400.vram_gb, a400.index, a400.tdp_watts) == \
        ("0000:af:00.0", "10de:25b2", 4, 1, 50)
    assert a5500.compute_capability is None      # the report has none


def test_old_driver_architecture_from_the_pci_device_id():
    gpu, = nvidia_xml.parse(fixture("old-driver-nvidia-smi-q.xml"), "q.xml").gpus
    assert (gpu.pci_id, gpu.architecture, gpu.driver, gpu.tdp_watts, gpu.vram_gb) == \
        ("10de:13c2", "maxwell", "470.182.03", 145, 4)


def test_warning_lines_before_the_document_are_skipped():
    parsed = nvidia_xml.parse("WARNING: infoROM is corrupted at gpu 0000:3B:00.0\n"
                              + fixture("seed001-nvidia-smi-q.xml"), "q.xml")
    assert len(parsed.gpus) == 2 and parsed.findings == []


def test_truncated_report_keeps_the_complete_gpus_and_says_where_it_breaks():
    text = fixture("seed001-nvidia-smi-q.xml")
    cut = text[:text.index("<fb_memory_usage>", text.index('<gpu id="00000000:AF:00.0">'))]
    parsed = nvidia_xml.parse(cut, "q.xml")
    assert [g.model for g in parsed.gpus] == ["RTX A5500"]
    problem, = parsed.findings
    assert problem.code == "DETECT001" and "truncated" in problem.message and problem.line > 40


def test_entities_are_refused():
    text = '<?xml version="1.0"?><!DOCTYPE nvidia_smi_log [<!ENTITY a "aaaa">]><nvidia_smi_log>&a;</nvidia_smi_log>'
    parsed = nvidia_xml.parse(text, "q.xml")
    assert parsed.gpus == [] and parsed.findings[0].code == "DETECT001"


def test_another_xml_document_is_not_a_report():
    parsed = nvidia_xml.parse('<?xml version="1.0"?><svg></svg>', "q.xml")
    assert parsed.gpus == [] and "not <nvidia_smi_log>" in parsed.findings[0].message


def test_uuid_and_the_boards_subsystem_id():
    a5500, a400 = nvidia_xml.parse(fixture("seed001-nvidia-smi-q.xml"), "q.xml").gpus
    # pci_sub_system_id packs the subsystem device in the high half, its vendor in the low: 165A10DE.
    assert (a5500.uuid, a5500.subsystem_id) == ("GPU-7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "10de:165a")
    assert a400.subsystem_id == "10de:1879"
    gtx, = nvidia_xml.parse(fixture("old-driver-nvidia-smi-q.xml"), "q.xml").gpus
    assert gtx.subsystem_id == "3842:2974"       # eVga's board, as lspci names it
