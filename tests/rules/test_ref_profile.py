"""REF003 (ref_profile.py): every profile a machine lists is defined in its own domain, except `default`.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers

findings = helpers.findings


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
