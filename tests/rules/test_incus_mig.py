"""INC003 (incus_mig.py): a `mig` GPU device names its MIG instance, an `mdev` device its `mdev` type.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers

findings = helpers.findings


def test_mig_without_any_instance_name(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {type: gpu, gputype: mig}
        """, "INC003") == [
        "infra.yml:8:37: error[INC003] machine 'llm' device 'gpu': gputype 'mig' needs the MIG instance it passes: "
        "mig.uuid, or both mig.gi and mig.ci (see nvidia-smi mig -lgi and -lci)"]


def test_mig_with_only_mig_ci(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {type: gpu, gputype: mig, mig.ci: 0}
        """, "INC003") == [
        "infra.yml:8:37: error[INC003] machine 'llm' device 'gpu': gputype 'mig' has mig.ci but no mig.gi; add "
        "mig.gi, or name the MIG instance by mig.uuid alone"]


def test_mig_uuid_excludes_gi_and_ci(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu:
                    type: gpu
                    gputype: mig
                    mig.uuid: 0b5f8f2a-1c3d-5e6f-8a9b-0c1d2e3f4a5b
                    mig.gi: 1
        """, "INC003") == [
        "infra.yml:12:13: error[INC003] machine 'llm' device 'gpu': mig.gi cannot be combined with mig.uuid, which "
        "already names the MIG instance; remove mig.gi"]


def test_mig_names_that_pass(findings):
    # mig.gi: 0 is an ID, not an unset value; an empty mig.gi is unset, as in Incus.
    assert findings("""
        project_name: lab
        global: {gpu_policy: shared}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {type: gpu, gputype: mig, mig.gi: 0, mig.ci: 0}
              stt:
                devices:
                  gpu: {type: gpu, gputype: mig, mig.uuid: 0b5f8f2a-1c3d-5e6f-8a9b-0c1d2e3f4a5b, mig.gi: ""}
        """, "INC003") == []


def test_mdev_needs_its_vgpu_type(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            profiles:
              vgpu:
                devices:
                  gpu: {type: gpu, gputype: mdev}
            machines:
              llm: {type: vm, profiles: [default, vgpu]}
        """, "INC003") == [
        "infra.yml:8:37: error[INC003] profile 'vgpu' device 'gpu': gputype 'mdev' needs mdev, the vGPU type to "
        "create (e.g. mdev: nvidia-63; `incus info --resources` lists a card's types)"]
