"""INC004 (incus_pci_ids.py): a GPU device selects its card one way (`pci`, else `id`, else the IDs).

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers

findings = helpers.findings


def test_pci_excludes_id_and_productid_one_finding_each(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                type: vm
                devices:
                  gpu:
                    type: gpu
                    pci: "0000:01:00.0"
                    id: 0
                    productid: 2c05
        """, "INC004") == [
        "infra.yml:12:13: error[INC004] machine 'llm' device 'gpu': id cannot be combined with pci, and Incus would "
        "refuse the device at apply time; pci already names one card: remove id",
        "infra.yml:13:13: error[INC004] machine 'llm' device 'gpu': productid cannot be combined with pci, and Incus "
        "would refuse the device at apply time; pci already names one card: remove productid",
    ]


def test_id_excludes_vendorid(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {type: gpu, id: "1", vendorid: 10de}
        """, "INC004") == [
        "infra.yml:8:37: error[INC004] machine 'llm' device 'gpu': vendorid cannot be combined with id, and Incus "
        "would refuse the device at apply time; id already names one card: remove vendorid"]


def test_selectors_that_go_together(findings):
    assert findings("""
        project_name: lab
        global: {gpu_policy: shared}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {type: gpu, vendorid: 10de, productid: 2c05}
              stt:
                devices:
                  gpu: {type: gpu, pci: "", id: "0"}
        """, "INC004") == []
