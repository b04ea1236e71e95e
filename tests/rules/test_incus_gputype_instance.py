"""INC002 (incus_gputype_instance.py): a GPU device's `gputype` suits the instance; a profile's device is
judged against every machine that uses the profile.

The docstring example is compiled by tests/rules/test_docstrings.py; these are the variants it does not
show, each with its exact finding.
"""

from __future__ import annotations

from tests.rules import helpers

findings = helpers.findings


def test_a_profile_device_is_judged_for_every_machine_that_uses_it(findings):
    assert findings("""
        project_name: lab
        global: {gpu_policy: shared}
        domains:
          ai:
            profiles:
              sriov-slice:
                devices:
                  gpu: {type: gpu, gputype: sriov, pci: "0000:03:00.0"}
            machines:
              llm: {profiles: [default, sriov-slice]}
              stt: {type: vm, profiles: [default, sriov-slice]}
              embed: {type: lxc, profiles: [default, sriov-slice]}
              web: {type: lxc}
        """, "INC002") == [
        "infra.yml:8:37: error[INC002] profile 'sriov-slice' device 'gpu': gputype 'sriov' works only on VMs, but "
        "machine 'embed', which uses the profile, is a container (type: lxc); set type: vm on embed",
        "infra.yml:8:37: error[INC002] profile 'sriov-slice' device 'gpu': gputype 'sriov' works only on VMs, but "
        "machine 'llm', which uses the profile, is a container (type: lxc, the default); set type: vm on llm",
    ]


def test_mig_on_a_vm(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                type: vm
                devices:
                  gpu: {type: gpu, gputype: mig, mig.uuid: 0b5f8f2a-1c3d-5e6f-8a9b-0c1d2e3f4a5b}
        """, "INC002") == [
        "infra.yml:9:37: error[INC002] machine 'llm' device 'gpu': gputype 'mig' works only on containers, but llm "
        "is a VM (type: vm); set type: lxc, or give the VM an mdev or sriov GPU instead"]


def test_a_device_the_machine_overrides_does_not_apply_to_it(findings):
    # Incus expands profiles in order, then the instance's own devices: a later device of the
    # same name replaces an earlier one.
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            profiles:
              vgpu:
                devices:
                  gpu: {type: gpu, gputype: mdev, mdev: nvidia-63}
              whole-gpu:
                devices:
                  gpu: {type: gpu, gputype: physical}
            machines:
              llm:
                profiles: [default, vgpu]
                devices:
                  gpu: {type: gpu, gputype: physical}
              stt: {profiles: [default, vgpu, whole-gpu]}
        """, "INC002") == []


def test_physical_suits_both_and_an_unused_profile_is_not_judged(findings):
    assert findings("""
        project_name: lab
        global: {gpu_policy: shared}
        domains:
          ai:
            profiles:
              nvidia-compute:
                devices:
                  gpu: {type: gpu, gputype: physical}
              spare-vgpu:
                devices:
                  gpu: {type: gpu, gputype: mdev, mdev: nvidia-63}
            machines:
              llm: {type: lxc, profiles: [default, nvidia-compute]}
              stt: {type: vm, profiles: [default, nvidia-compute]}
        """, "INC002") == []


def test_an_unknown_gputype_is_left_to_inc001(findings):
    assert findings("""
        project_name: lab
        global: {}
        domains:
          ai:
            machines:
              llm:
                devices:
                  gpu: {type: gpu, gputype: sriovv}
        """, "INC002") == []


def test_native_context_is_for_vms_only(findings):
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
              box:
                devices:
                  gpu: {type: gpu, gputype: native-context}
        """, "INC002") == [
        "infra.yml:12:37: error[INC002] machine 'box' device 'gpu': gputype 'native-context' works only on VMs, "
        "but box is a container (type: lxc, the default); set type: vm"]
