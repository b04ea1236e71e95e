"""INC005 (incus_ids_format.py): a GPU device's `vendorid` and `productid` are 4 lower-case hex digits.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

import pytest

from tests.rules import helpers

findings = helpers.findings


@pytest.mark.parametrize("key, value, hint", [
    ("productid", '"0x2C05"', "write '2c05'"),
    ("productid", '"10de:2c05"', "that is a vendor:product pair: write vendorid: '10de' and productid: '2c05'"),
    ("productid", '"10de0"', "write it as lspci -nn shows it after the vendor ID, e.g. '2c05' in [10de:2c05]"),
    ("vendorid", "nvidia", "write it as lspci -nn shows it, e.g. '10de' (NVIDIA), '1002' (AMD), '8086' (Intel)"),
])
def test_id_format_hints(findings, key, value, hint):
    shown = value.strip('"')
    column = 30 + len(key)  # just after "gpu: {type: gpu, KEY: "
    assert findings(f"""
        project_name: lab
        global: {{}}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {{type: gpu, {key}: {value}}}
        """, "INC005") == [
        f"infra.yml:8:{column}: error[INC005] machine 'llm' device 'gpu': {key} '{shown}' is not 4 lower-case hex "
        f"digits; {hint}"]


def test_quoted_digit_ids_pass(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {type: gpu, vendorid: "1002", productid: "1586"}
        """, "INC005") == []
