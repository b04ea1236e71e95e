"""The Incus device rules (INC001-INC005) beyond their docstring examples.

GPU devices appear on profiles and on machines; a profile's device is judged
against every machine that uses the profile.
"""

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


# INC001: gputype values


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
        "infra.yml:9:37: error[INC001] machine 'llm' device 'gpu': gputype 'vfio' is not physical, mdev, mig or "
        "sriov, and Incus would silently treat it as physical"]


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
        "infra.yml:8:37: error[INC001] machine 'llm' device 'gpu': gputype 'Physical' is not physical, mdev, mig or "
        "sriov, and Incus would silently treat it as physical; did you mean 'physical'?"]


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


# INC002: gputype against the instance type


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


# INC003: options each gputype needs


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


# INC004: card selectors that exclude each other


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


# INC005: vendorid / productid format


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
