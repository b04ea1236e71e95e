"""Shared by the rule tests (tests/rules/test_<rule module>.py): the inputs several of them start from and
the ways they compile one.

The two fixtures are bound by name in the modules that use them (`findings = helpers.findings`): pytest
finds a module's fixtures among its names, and an import that only a parameter uses reads as unused.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from tests.conftest import run_psot


@pytest.fixture
def findings(infra_file, monkeypatch):
    """Compile an infra.yml and return the formatted findings of one code."""
    def run(text: str, code: str) -> list[str]:
        path = infra_file(text)
        monkeypatch.chdir(path.parent)
        result = compile_infra(Path("infra.yml"))
        return [f.format() for f in result.diag.findings if f.code == code]
    return run


@pytest.fixture
def infra_file(infra_file, monkeypatch):
    """conftest's fixture, run from the file's directory so findings name `infra.yml` as users see it."""
    def write(text: str) -> Path:
        path = infra_file(text)
        monkeypatch.chdir(path.parent)
        return Path(path.name)
    return write


# The fit rules' homelab (FIT001-FIT004).
HOMELAB = """\
project_name: homelab
global: {gpu_policy: shared}
domains: {}
"""


# Seed 000's Proxmox homelab and seed 002's Kubernetes nodes.
PVE = """\
hosts:
  pve:
    gpus:
      rtx-5070-ti: {vendor: nvidia, vram_gb: 16, index: 0, compute_capability: "12.0"}
      gtx-970: {vendor: nvidia, vram_gb: 4, index: 1, compute_capability: "5.2"}
"""


NODES = """\
hosts:
  khelben:
    platform: kubernetes
    gpus:
      strix-halo: {vendor: amd, vram_gb: 64}
  elminster:
    platform: kubernetes
    gpus:
      rtx-2070: {vendor: nvidia, vram_gb: 8, compute_capability: "7.5"}
"""


def workload(line: str) -> str:
    return f"workloads:\n  {line}\n"


def compiled(infra_file, text: str):
    result = compile_infra(infra_file(text), until="place")
    assert result.infra is not None, [f.format() for f in result.diag.findings]  # the rules ran
    return result


def found(infra_file, text: str, *codes: str) -> list[str]:
    result = compiled(infra_file, text)
    return [f.format() for f in result.diag.findings if f.code in codes]


# Seed 002's heterogeneous Kubernetes homelab.
KUBERNETES_HOMELAB = """\
project_name: homelab
global: {gpu_policy: shared}
domains: {}
hosts:
  khelben:
    platform: kubernetes
    taints: [{key: dedicated, value: vllm, effect: NoSchedule}]
    gpus:
      strix-halo: {vendor: amd, vram_gb: 64}
  elminster:
    platform: kubernetes
    gpus:
      rtx-2070: {vendor: nvidia, vram_gb: 8, compute_capability: "7.5"}
"""


def found_placed(infra_file, text: str, *codes: str) -> list[str]:
    result = compile_infra(infra_file(text), until="place")
    assert result.placement is not None, [f.format() for f in result.diag.findings]  # placement rules ran
    return [f.format() for f in result.diag.findings if f.code in codes]


def policy_findings(path: Path, *codes: str) -> list[str]:
    """Findings as printed, with the file named as in its own directory (`infra.yml:…`)."""
    result = compile_infra(path)
    return [f.format().replace(f"{path.parent}/", "") for f in result.diag.findings if not codes or f.code in codes]


ANKLUME = """
project_name: lab
global: {{gpu_policy: {policy}}}
domains:
  ai-tools:
    profiles:
      nvidia-compute:
        devices:
          gpu: {{type: gpu, gputype: physical}}
    machines:
{machines}
"""


def anklume(infra_file, policy: str, *machines: str) -> Path:
    body = "\n".join(f"      {m}" for m in machines) or "      {}"
    return infra_file(ANKLUME.format(policy=policy, machines=body))


INVENTORY = """
project_name: ws
global: {{gpu_policy: {policy}}}
domains: {{}}
hosts:
  ws:
    iommu: true
    gpus:
      rtx-a5500: {{vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:01:00.0"}}
      rtx-a400: {{vendor: nvidia, vram_gb: 4, index: 1, pci: "0000:02:00.0"}}
workloads:
{workloads}
"""


def inventory(infra_file, policy: str, *workloads: str) -> Path:
    return infra_file(INVENTORY.format(policy=policy, workloads="\n".join(f"  {w}" for w in workloads)))


def validate_findings(tmp_path, text: str) -> tuple[int, list[str]]:
    (tmp_path / "infra.yml").write_text(textwrap.dedent(text).lstrip("\n"))
    done = run_psot("validate", "--format", "json", cwd=tmp_path)
    body = json.loads(done.stdout)
    return done.returncode, [f"{f['line']}:{f['column']} {f['code']} {f['message']}" for f in body["findings"]]
