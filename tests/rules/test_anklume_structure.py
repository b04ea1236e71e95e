"""The AnKLuMe structure rules (REF003, ANK001) beyond their docstring examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import compile_infra


@pytest.fixture
def findings(infra_file, monkeypatch):
    """Compile an infra.yml and return the formatted findings of one code."""
    def run(text: str, code: str) -> list[str]:
        path = infra_file(text)
        monkeypatch.chdir(path.parent)
        result = compile_infra(Path("infra.yml"))
        return [f.format() for f in result.diag.findings if f.code == code]
    return run


# REF003: profiles a machine lists


def test_a_profile_of_another_domain_does_not_count(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai-tools:
            profiles:
              nvidia-compute:
                devices:
                  gpu: {type: gpu}
            machines:
              gpu-server: {profiles: [default, nvidia-compute]}
          work:
            machines:
              work-gpu: {profiles: [default, nvidia-compute]}
        """, "REF003") == [
        "infra.yml:13:38: error[REF003] work-gpu: profile 'nvidia-compute' is not defined in domain 'work'; it is a "
        "profile of domain 'ai-tools', and each domain is its own Incus project: copy it into domains.work.profiles"]


def test_no_close_name_says_where_to_define_it_and_points_at_the_item(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai-tools:
            profiles:
              limited: {config: {limits.cpu: "2"}}
            machines:
              gpu-server:
                profiles:
                  - default
                  - limited
                  - gpu-passthrough
        """, "REF003") == [
        "infra.yml:12:13: error[REF003] gpu-server: profile 'gpu-passthrough' is not defined in domain 'ai-tools'; "
        "define it under domains.ai-tools.profiles"]


def test_default_needs_no_definition_and_no_profiles_is_fine(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai-tools:
            profiles: null
            machines:
              gpu-server: {profiles: [default]}
              web: {profiles: null}
              db: {}
        """, "REF003") == []


# ANK001: containers in low-trust domains


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
