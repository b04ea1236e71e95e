"""A node dedicated to a workload is never a candidate or a fallback for another, under every strategy and
under `--without` (issue 19: bge-embeddings was moved onto khelben, vLLM's node)."""

from __future__ import annotations

import pytest

from generator.pipeline import compile_infra
from tests.platforms.kubernetes.test_render import SEED_002

STRATEGIES = ("vram_based", "latency_optimized", "isolation_first", "balanced")


@pytest.fixture
def unpinned(tmp_path):
    """Seed 002 with bge-embeddings placed by psot (no host): khelben's Strix Halo is the other AMD GPU."""
    text = SEED_002.read_text().replace("    host: drizzt\n", "")
    assert "host: drizzt" not in text
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "kustomization.yaml").write_text("resources: []\n")
    path = tmp_path / "infra.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("without", [(), ("drizzt/radeon-680m",)])
def test_bge_embeddings_never_gets_khelben(unpinned, strategy, without):
    result = compile_infra(unpinned, strategy=strategy, until="place", without=without)
    assignment = result.placement.assignments["bge-embeddings"]
    assert assignment.gpus == (() if without else ("drizzt/radeon-680m",))
    assert "khelben/strix-halo" not in assignment.fallback
    assert [f.code for f in result.diag.findings if f.code == "K8S002"] == []


def test_the_dedicated_workload_itself_still_gets_its_node(unpinned):
    result = compile_infra(unpinned, until="place")
    assert result.placement.assignments["vllm"].gpus == ("khelben/strix-halo",)


def test_a_workload_that_names_the_dedicated_node_is_still_reported(infra_file):
    path = infra_file("""
        project_name: t
        global: {gpu_policy: shared}
        domains: {}
        hosts:
          khelben:
            platform: kubernetes
            gpus:
              strix-halo: {vendor: amd, vram_gb: 64}
        workloads:
          vllm: {target: kubernetes, image: "rocm/vllm:latest", host: khelben, dedicated_node: true,
                 gpu: {vram_gb: 42}}
          other: {target: kubernetes, image: "x/y:1", host: khelben, gpu: {vram_gb: 2}}
    """)
    result = compile_infra(path)
    assert [f.code for f in result.diag.findings if f.severity == "error"] == ["K8S002"]
