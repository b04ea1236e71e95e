"""INC001 (incus_gputype.py): a GPU device's `gputype` is `physical`, `mdev`, `mig`, `sriov` or
`native-context`.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers

findings = helpers.findings


def test_unknown_gputype_on_a_machine_without_a_close_match(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                type: vm
                devices:
                  gpu: {type: gpu, gputype: vfio}
        """, "INC001") == [
        "infra.yml:9:37: error[INC001] machine 'llm' device 'gpu': gputype 'vfio' is not physical, mdev, mig, "
        "sriov or native-context, and Incus would silently treat it as physical"]


def test_gputype_is_case_sensitive_as_in_incus(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {type: gpu, gputype: Physical}
        """, "INC001") == [
        "infra.yml:8:37: error[INC001] machine 'llm' device 'gpu': gputype 'Physical' is not physical, mdev, mig, "
        "sriov or native-context, and Incus would silently treat it as physical; did you mean 'physical'?"]


def test_missing_gputype_is_physical_and_other_device_types_are_not_checked(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            profiles:
              nvidia-compute:
                devices:
                  gpu: {type: gpu}
                  eth0: {type: nic, gputype: phisical}
            machines:
              llm: {profiles: [default, nvidia-compute]}
        """, "INC001") == []


def test_native_context_is_a_gputype(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              desktop:
                type: vm
                devices:
                  gpu: {type: gpu, gputype: native-context}
        """, "INC001") == []
