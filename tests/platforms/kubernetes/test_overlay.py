"""The overlay applies as it is: the example's real base, the base checked at compile time, the user's
tolerations and node terms kept, the Namespaces psot's objects need."""

from __future__ import annotations

import shutil

import yaml

from generator.pipeline import compile_infra
from tests.platforms.kubernetes.test_render import SEED_002, data_of, kustomize, validate


def write_tree(out, tree):
    for rel, content in tree.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(content)


def test_the_seed_002_example_builds_straight_from_the_repository(tmp_path):
    """Its own base (examples/heterogeneous-k8s/k8s/), no stand-in: kustomize builds it, strict schemas pass."""
    tree = compile_infra(SEED_002, output_dir=tmp_path / "generated").tree
    write_tree(tmp_path / "generated", tree)
    built = kustomize(tmp_path / "generated" / "kubernetes")
    assert built.returncode == 0, built.stderr
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built.stdout) if o}
    assert sorted(objects) == [
        ("ConfigMap", "nvidia-device-plugin-config"),
        ("Deployment", "bge-embeddings"), ("Deployment", "bge-reranker"), ("Deployment", "vllm"),
        ("Deployment", "whisper"), ("Deployment", "xtts"),
        ("Namespace", "ai"), ("Namespace", "nvidia-device-plugin")]
    whisper = objects[("Deployment", "whisper")]["spec"]["template"]["spec"]
    # The base's toleration survives the overlay (a strategic merge alone would have replaced the list).
    assert whisper["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert whisper["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": 1}}
    assert whisper["containers"][0]["image"] == "ghcr.io/speaches-ai/speaches:latest-cuda"
    # The base's node term is kept, ANDed with the node placement chose.
    embeddings = objects[("Deployment", "bge-embeddings")]["spec"]["template"]["spec"]
    assert embeddings["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["drizzt"]}]}]}
    # vLLM's own toleration and term are psot's too: not doubled.
    vllm = objects[("Deployment", "vllm")]["spec"]["template"]["spec"]
    assert vllm["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "vllm", "effect": "NoSchedule"}]
    assert len(vllm["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"]) == 1
    (tmp_path / "built.yaml").write_text(built.stdout)
    result = validate("1.34", tmp_path / "built.yaml", *sorted((tmp_path / "generated/kubernetes/nodes").glob("*")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_removing_the_base_is_a_compile_time_error_at_the_setting(tmp_path):
    project = tmp_path / "heterogeneous-k8s"
    shutil.copytree(SEED_002.parent, project, ignore=shutil.ignore_patterns("generated"))
    shutil.rmtree(project / "k8s")
    result = compile_infra(project / "infra.yml")
    assert not result.ok
    assert [f.format().removeprefix(f"{project}/") for f in result.diag.findings if f.severity == "error"] == [
        "infra.yml:23:11: error[K8S008] global.kubernetes.base 'k8s' cannot be built by kustomize: there is no "
        "such directory (relative to infra.yml); create it with your manifests and a kustomization.yaml "
        "(bge-embeddings patches its Deployment ai/bge-embeddings there), or set base to the directory that has them"]
    (project / "k8s").mkdir()
    result = compile_infra(project / "infra.yml")
    assert [f.message.split(": ")[1] for f in result.diag.findings if f.code == "K8S008"] == [
        "it has no kustomization.yaml; create it with your manifests and a kustomization.yaml (bge-embeddings "
        "patches its Deployment ai/bge-embeddings there), or set base to the directory that has them"]


BASE_USER = """
project_name: t
global: {kubernetes: {base: manifests, create_namespaces: CREATE}}
domains: {}
hosts:
  n1:
    platform: kubernetes
    taints: [{key: gpu, value: "yes", effect: NoSchedule}]
    gpus:
      g: {vendor: amd, vram_gb: 16}
workloads:
  app: {target: kubernetes, namespace: team, gpu: {vram_gb: 2}}
  web: {target: kubernetes, namespace: web, image: "nginx:1.27", host: n1, gpu: false}
"""


def base_project(infra_file, create="true"):
    path = infra_file(BASE_USER.replace("CREATE", create))
    base = path.parent / "manifests"
    (base / "app").mkdir(parents=True)
    (base / "kustomization.yaml").write_text("namespace: team\nresources: [app, ns.yaml]\n")
    (base / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n")
    (base / "app" / "kustomization.yaml").write_text("resources: [deploy.yaml]\n")
    (base / "app" / "deploy.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
            "containers": [{"name": "app", "image": "busybox:1.36"}],
            "tolerations": [{"key": "spot", "operator": "Exists"}, {"key": "gpu", "operator": "Equal",
                                                                    "value": "yes", "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}}}}))
    return path


def test_patches_keep_the_bases_tolerations_and_each_node_term(infra_file, tmp_path):
    path = base_project(infra_file)
    data = data_of(path)
    pod = data["patches/app.yaml"]["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"key": "spot", "operator": "Exists"},
                                  {"key": "gpu", "operator": "Equal", "value": "yes", "effect": "NoSchedule"}]
    hostname = {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}
    assert pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}, hostname]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}], "matchExpressions": [hostname]}]
    # team is the base's own Namespace: only web's is psot's to create.
    assert sorted(p for p in data if p.startswith("namespaces/")) == ["namespaces/web.yaml"]
    tree = compile_infra(path).tree
    write_tree(path.parent / "generated", tree)
    built = kustomize(path.parent / "generated" / "kubernetes")
    assert built.returncode == 0, built.stderr
    app = next(o for o in yaml.safe_load_all(built.stdout) if o["kind"] == "Deployment")
    assert app["spec"]["template"]["spec"]["tolerations"] == pod["tolerations"]


def test_create_namespaces_false_renders_none(infra_file):
    data = data_of(base_project(infra_file, "false"))
    assert [p for p in data if p.startswith("namespaces/")] == []
    assert data["kustomization.yaml"]["resources"] == ["../../manifests", "workloads/web.yaml"]
