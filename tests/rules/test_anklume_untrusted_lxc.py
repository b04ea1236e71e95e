"""ANK001 (anklume_untrusted_lxc.py): a machine of an `untrusted` or `disposable` domain should be a VM.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from tests.rules import helpers

findings = helpers.findings


def test_disposable_domain_machine_without_type_points_at_the_machine(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          sandbox:
            trust_level: disposable
            ephemeral: true
            machines:
              sandbox-test: {}
        """, "ANK001") == [
        "infra.yml:8:7: warning[ANK001] sandbox-test: domain 'sandbox' is disposable, but sandbox-test is an LXC "
        "container (type: lxc, the default), which shares the host kernel; set type: vm to give it a kernel of its own"]


def test_gpu_container_in_an_untrusted_domain_names_the_gpu_driver(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          sandbox:
            trust_level: untrusted
            profiles:
              nvidia-compute:
                devices:
                  gpu: {type: gpu, gputype: physical}
            machines:
              sandbox-llm: {type: lxc, profiles: [default, nvidia-compute]}
        """, "ANK001") == [
        "infra.yml:11:27: warning[ANK001] sandbox-llm: domain 'sandbox' is untrusted, but sandbox-llm is an LXC "
        "container with GPU access (type: lxc), which shares the host kernel and its GPU driver; set type: vm to "
        "give it a kernel of its own"]


def test_a_mig_container_is_told_what_a_vm_takes_instead(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          sandbox:
            trust_level: untrusted
            machines:
              sandbox-llm:
                devices:
                  gpu: {type: gpu, gputype: mig, mig.gi: 1, mig.ci: 0}
        """, "ANK001") == [
        "infra.yml:7:7: warning[ANK001] sandbox-llm: domain 'sandbox' is untrusted, but sandbox-llm is an LXC "
        "container with GPU access (type: lxc, the default), which shares the host kernel and its GPU driver; set "
        "type: vm to give it a kernel of its own, and an mdev or sriov GPU instead of mig, which only containers take"]


@pytest.mark.parametrize("level", ["admin", "trusted", "semi-trusted", None])
def test_other_trust_levels_may_use_containers(findings, level):
    trust = f"trust_level: {level}" if level else "description: no trust level"
    assert findings(f"""
        project_name: lab
        global: {{}}
        domains:
          ai-tools:
            {trust}
            machines:
              gpu-server: {{type: lxc, gpu: true}}
        """, "ANK001") == []


def test_trust_level_is_an_enum_of_the_schema(infra_file, monkeypatch):
    # No rule needed for a bad trust_level: the schema refuses it, with a suggestion.
    path = infra_file("""
        project_name: lab
        global: {}
        domains:
          sandbox:
            trust_level: untrustd
        """)
    monkeypatch.chdir(path.parent)
    result = compile_infra(Path("infra.yml"))
    assert [f.format() for f in result.diag.findings] == [
        "infra.yml:5:18: error[SCHEMA001] 'untrustd' is not a valid trust_level; expected one of: admin, trusted, "
        "semi-trusted, untrusted, disposable (did you mean 'untrusted'?)"]
