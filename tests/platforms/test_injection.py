"""No value can add a line or a key to a generated file: it is refused, or it stays one value.

Names and descriptions carrying newlines, `:`, `=` and `,` are fed to every
renderer. Each must either be refused with a finding (no traceback, nothing
rendered) or come out as exactly the value given, with the file parsing to
the keys psot meant to write.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from generator.pipeline import compile_infra
from generator.platforms.proxmox import pve_config
from generator.serialize import load_yaml

EVIL = "x\nhostpci1: 0000:66:00.0\n,mapping=evil=1: y"

BASE = """
project_name: injection
global: {gpu_policy: shared}
domains:
  ai:
    description: %(text)s
    profiles:
      gpu-p:
        description: %(text)s
        devices:
          gpu: {type: gpu, gputype: physical}
    machines:
      box:
        type: lxc
        description: %(text)s
        profiles: [default, gpu-p]
        config: {user.note: %(text)s}
hosts:
  ws:
    platform: docker
    gpus:
      rtx: {vendor: nvidia, vram_gb: 24, index: 0, model: %(text)s}
  pve:
    platform: proxmox
    iommu: true
    gpus:
      card: {vendor: nvidia, vram_gb: 16, pci: "0000:01:00.0", pci_id: "10de:2204"}
  lab:
    platform: incus
    gpus:
      a4000: {vendor: nvidia, vram_gb: 16, pci: "0000:03:00.0"}
  k8s:
    platform: kubernetes
    labels: {note: plain}
    gpus:
      small: {vendor: nvidia, vram_gb: 8, index: 0}
workloads:
  svc:
    target: compose
    host: ws
    environment: {NOTE: %(text)s}
  vm:
    target: proxmox
    host: pve
    vmid: 100
  pod:
    target: kubernetes
    host: k8s
"""


def compile_text(tmp_path: Path, text: str):
    path = tmp_path / "infra.yml"
    path.write_text(textwrap.dedent(BASE) % {"text": text})
    return compile_infra(path, output_dir=tmp_path / "out")


def test_free_text_stays_one_value_in_every_file(tmp_path):
    result = compile_text(tmp_path, yaml.safe_dump(EVIL).strip().replace("\n...", ""))
    assert result.ok, [f.format() for f in result.diag.findings]
    tree = result.tree
    for path, content in tree.items():
        text = content.decode()
        if path.endswith((".yml", ".yaml")):
            data = load_yaml(text)
            # The evil text is exactly one value wherever it appears, never a key.
            assert "hostpci1" not in str(list(_keys(data))), path
        elif "qemu-server" in path:
            config, problems = pve_config.parse_qm_conf(text)
            assert problems == [] and "hostpci1" not in config.options, path
        else:
            assert "hostpci1" not in text and "evil" not in text, path
    instance = yaml.safe_load(tree["incus/ai/instances/box.yaml"])
    assert instance["description"] == EVIL and instance["config"]["user.note"] == EVIL
    compose = load_yaml(tree["compose/ws/docker-compose.gpu-override.yml"])
    assert compose["services"]["svc"]["environment"] == ["NOTE=" + EVIL]


def _keys(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from _keys(value)
    elif isinstance(data, list):
        for item in data:
            yield from _keys(item)


@pytest.mark.parametrize("field,value", [
    ("proxmox name", "win11\\nhostpci1: 0000:66:00.0"),
    ("proxmox name", "a:b"),
    ("proxmox name", "a,b=c"),
    ("kubernetes namespace", "ai\\nkind: Secret"),
    ("kubernetes namespace", "a=b"),
    ("gpu pci", "0000:01:00.0\\nhostpci1: 0000:66:00.0"),
    ("gpu pci", "0000:01:00.0,x-vga=1"),
    ("mapping", "gpu,node=evil"),
])
def test_values_that_reach_a_structured_position_are_refused(tmp_path, field, value):
    text = textwrap.dedent(BASE) % {"text": "plain"}
    quoted = '"' + value + '"'
    if field == "proxmox name":
        text = text.replace("    vmid: 100\n", f"    vmid: 100\n    name: {quoted}\n")
    elif field == "kubernetes namespace":
        text = text.replace("    host: k8s\n", f"    host: k8s\n    namespace: {quoted}\n")
    elif field == "gpu pci":
        text = text.replace('pci: "0000:01:00.0"', f"pci: {quoted}")
    else:
        text = text.replace('pci_id: "10de:2204"}', f'pci_id: "10de:2204", mapping: {quoted}}}')
    path = tmp_path / "infra.yml"
    path.write_text(text)
    result = compile_infra(path, output_dir=tmp_path / "out")
    assert not result.ok and result.tree is None
    assert [f for f in result.diag.findings if f.severity == "error"], "refused with a finding"
