"""Garbage, truncated and random outputs: findings, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.detect import amd_smi, formats, iommu, lspci, merge, nvidia_csv, nvidia_modules, nvidia_xml, rocm_smi
from generator.detect.records import MAX_PROBLEMS, Parsed
from tests.conftest import run_psot
from tests.detect.helpers import LISTINGS, OUTPUTS, fixture

PARSERS = [nvidia_csv.parse, nvidia_xml.parse, rocm_smi.parse, amd_smi.parse, lspci.parse, iommu.parse,
           nvidia_modules.parse_version, nvidia_modules.parse_modinfo, formats.parse]
FIXTURE_NAMES = sorted(p.name for p in OUTPUTS + LISTINGS)
ANY_TEXT = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_safely(parse, text: str) -> Parsed:
    parsed = parse(text, "out.txt")
    assert isinstance(parsed, Parsed)
    assert len(parsed.findings) <= MAX_PROBLEMS + 2
    for f in parsed.findings:
        assert f.code.startswith("DETECT") and f.severity in ("error", "warning") and f.line >= 1 and f.column >= 1
    merged = merge.merge([parsed])                      # and what they give merges and names without error
    merge.named(merged.gpus)
    return parsed


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_truncation_of_every_fixture(name):
    text = fixture(name)
    for cut in range(0, len(text), max(1, len(text) // 60)):
        for parse in PARSERS:
            read_safely(parse, text[:cut])


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_each_format_read_by_every_other_parser(name):
    for parse in PARSERS:
        read_safely(parse, fixture(name))


@pytest.mark.parametrize("text", [
    '{"card0": {"VRAM Total Memory (B)": "' + "9" * 5000 + '"}}',       # beyond Python's int-string limit
    '[{"gpu": 0, "vram": {"size": {"value": 1e999, "unit": "MB"}}}]',   # infinite
    '[{"gpu": ' + "9" * 400 + ', "asic": {"device_id": -1}}]',
    '{"card0": {"PCI Bus": ["0000:03:00.0"], "Card Series": {"x": 1}, "GFX Version": 7}}',
    "[" * 100_000,                                                       # nesting past the recursion limit
    "<nvidia_smi_log>" + "<gpu>" * 50_000,                               # deep and unclosed
    "<nvidia_smi_log>" + '<gpu id="x"/>' * 5_000 + "</nvidia_smi_log>",    # findings stay few (MAX_PROBLEMS)
    "0000:01:00.0 VGA [0300]: " + "a [" * 100_000 + "\n",                 # regexes stay linear
    '<?xml version="1.0"?><nvidia_smi_log><gpu id="0000:01:00.0"><fb_memory_usage><total>1e999 MiB</total>'
    '</fb_memory_usage></gpu></nvidia_smi_log>',
    "0, NVIDIA X, 99999999999999999999999999999999999, 00000000:01:00.0, 99.99, GPU-1, 1.2, 1e308\n",
    '0, "unterminated, 1, 00000000:01:00.0, 8.6, GPU-1, 550, 1\n',
    "0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation [GeForce [RTX]] [10de:2c05]\n",
    "0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GB203 [GeForce RTX 5070 Ti] [10de:2c05]\n"
    "\tSubsystem: " + "[1043:8a15] " * 20_000 + "\n\tFlags: IOMMU group 99999999999999999999\n",
    "/sys/kernel/iommu_groups/" + "9" * 5000 + "/devices/0000:01:00.0\n" + "/sys/kernel/iommu_groups/" * 10_000,
    "NVRM version: NVIDIA UNIX " + "Open " * 20_000 + "\n",
    "name: nvidia\nlicense: " + "Dual MIT/GPL" * 5000 + "\n",
    '[{"gpu": 0, "mem_usage": {"total_gtt": {"value": 1e999, "unit": "MB"}}}, {"gpu": true, "mem_usage": 7}]',
    '{"card0": {"GFX Version": "gfx1103", "GTT Total Memory (B)": "-1", "VRAM Total Memory (B)": "0"}}',
])
def test_hostile_values(text):
    for parse in PARSERS:
        read_safely(parse, text)


@ANY_TEXT
@given(st.binary(max_size=2000))
def test_random_bytes_to_every_parser(data):
    text = data.decode("utf-8", errors="replace")
    for parse in PARSERS:
        read_safely(parse, text)


@ANY_TEXT
@given(st.sampled_from(FIXTURE_NAMES), st.data())
def test_random_edits_of_real_outputs(name, data):
    """Outputs that are almost right: a slice replaced by random text."""
    text = fixture(name)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 200)))
    middle = data.draw(st.text(max_size=50))
    for parse in PARSERS:
        read_safely(parse, text[:start] + middle + text[end:])


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary", b"\xff\xfe garbage \xc3", b"just some words\n",
                                     b'{"card0": {"Card Series": "AMD Radeon',
                                     b"<?xml version='1.0'?><nvidia_smi_log><gpu"])
def test_garbage_file_through_the_command(content, tmp_path):
    path = tmp_path / "saved.out"
    path.write_bytes(content)
    run = run_psot("detect", "--host", "h", "--from", str(path))
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert "error[DETECT001]" in run.stderr and run.stdout == ""


def test_missing_file_through_the_command(tmp_path):
    run = run_psot("detect", "--from", str(tmp_path / "nope.csv"))
    assert run.returncode == 1
    assert f"{tmp_path / 'nope.csv'}:1:1: error[DETECT002] file not found" in run.stderr


def test_a_fifo_or_a_device_given_as_a_saved_output_is_refused_at_once(tmp_path):
    """`--from` reads like the loader: never a FIFO (which would block) nor a device (endless)."""
    import os
    import time

    from generator.detect.tools import read_file
    fifo = tmp_path / "nvidia.csv"
    os.mkfifo(fifo)
    start = time.monotonic()
    for path, kind in ((fifo, "a named pipe (FIFO)"), (Path("/dev/zero"), "a character device")):
        parsed = read_file(path)
        assert [f.code for f in parsed.findings] == ["DETECT002"], parsed.findings
        assert kind in parsed.findings[0].message
    assert time.monotonic() - start < 30
