"""Formats are told by content, never by a file's name."""

from __future__ import annotations

import shutil

import pytest

from generator.detect import formats, tools
from tests.detect.helpers import FIXTURES, fixture


@pytest.mark.parametrize("name, format", [
    ("seed000-nvidia-smi.csv", "nvidia-smi-csv"), ("seed001-nvidia-smi-q.xml", "nvidia-smi-xml"),
    ("old-driver-nvidia-smi-q.xml", "nvidia-smi-xml"), ("mixed-rocm-smi.json", "rocm-smi-json"),
    ("rocm-smi-5-nobus.json", "rocm-smi-json"), ("mixed-amd-smi.json", "amd-smi-json"),
    ("amd-smi-gpu-data.json", "amd-smi-json"), ("seed000-lspci.txt", "lspci"), ("mixed-lspci.txt", "lspci"),
    ("pve-lspci.txt", "lspci"), ("apu-lspci.txt", "lspci"), ("apu-rocm-smi.json", "rocm-smi-json"),
    ("apu-amd-smi.json", "amd-smi-json"), ("apu-amd-smi-metric.json", "amd-smi-json"),
    ("pve-iommu-groups.txt", "iommu-groups"), ("mixed-iommu-groups-ls.txt", "iommu-groups"),
    ("pve-nvidia-version.txt", "nvidia-proc-version"), ("pve-modinfo-nvidia.txt", "modinfo-nvidia"),
])
def test_recognised_by_content(name, format, tmp_path):
    assert formats.recognise(fixture(name)) == format
    misleading = tmp_path / "output.json"          # a name that says nothing true
    shutil.copy(FIXTURES / name, misleading)
    assert tools.read_file(misleading).format == format


@pytest.mark.parametrize("text", ["", "   \n", "hello world\n", "a,b,c,d\n1,2,3,4\n", '{"name": "x"}', "\x00\x01",
                                  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"])
def test_anything_else_is_detect001(text):
    assert formats.recognise(text) is None
    parsed = formats.parse(text, "what.txt")
    problem, = parsed.findings
    assert (problem.code, problem.severity, problem.file) == ("DETECT001", "error", "what.txt")
    assert "nvidia-smi --query-gpu=" in problem.message and "lspci -nn -D" in problem.message
    assert "find /sys/kernel/iommu_groups/ -type l" in problem.message and "modinfo nvidia" in problem.message
