"""INV002 (inventory_index.py): each GPU of a host has a driver index of its own among its vendor's GPUs.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules.helpers import validate_findings as findings


def test_every_repeated_index_is_named_once_against_the_first(tmp_path):
    code, found = findings(tmp_path, """
        project_name: lab
        global: {}
        domains: {}
        hosts:
          ws:
            platform: docker
            gpus:
              a: {vendor: nvidia, vram_gb: 24, index: 1}
              b: {vendor: nvidia, vram_gb: 24, index: 1}
              c: {vendor: nvidia, vram_gb: 24, index: 1}
              d: {vendor: intel, vram_gb: 8, index: 1}
        """)
    assert code == 1
    assert found == [
        "9:47 INV002 ws/b has nvidia index 1, as ws/a has: the driver numbers each card once; give each GPU the "
        "index its driver shows",
        "10:47 INV002 ws/c has nvidia index 1, as ws/a has: the driver numbers each card once; give each GPU the "
        "index its driver shows"]
