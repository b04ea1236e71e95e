"""`gpu_api: dra`: ResourceClaimTemplates and shared ResourceClaims pin the GPU psot chose; the device plugin warns.

The acceptance of issue 19: a node with two NVIDIA GPUs and two workloads
pinned to different ones. The built overlay (kubectl kustomize) holds
resource.k8s.io/v1 claim templates whose CEL selectors name each workload's
GPU, the Deployments reference them, and kubernetes-validate --strict -k 1.34
accepts every object.
"""

from __future__ import annotations

import yaml

from generator.pipeline import compile_infra
from tests.platforms.kubernetes.test_render import data_of, kustomize, validate, write_overlay

UUID_A = "GPU-11111111-2222-3333-4444-555555555555"
UUID_B = "GPU-66666666-7777-8888-9999-000000000000"

TWO_GPUS = f"""
project_name: t
global: {{gpu_policy: shared, kubernetes: {{version: "1.34", gpu_api: GPU_API}}}}
domains: {{}}
hosts:
  big:
    platform: kubernetes
    gpus:
      a: {{vendor: nvidia, vram_gb: 24, uuid: {UUID_A}}}
      b: {{vendor: nvidia, vram_gb: 24, pci: "0000:02:00.0"}}
  amd:
    platform: kubernetes
    gpus:
      mi: {{vendor: amd, vram_gb: 16, pci: "0000:03:00.0"}}
      arc: {{vendor: intel, vram_gb: 16, pci: "0000:04:00.0", driver_in_use: xe}}
workloads:
  chat: {{target: kubernetes, namespace: ml, gpu: {{vram_gb: 20, pin: a}}}}
  embed: {{target: kubernetes, namespace: ml, image: "ghcr.io/huggingface/tei:1.5", gpu: {{vram_gb: 20, pin: b}}}}
  rocm: {{target: kubernetes, image: "rocm/vllm:latest", gpu: {{vram_gb: 4, pin: mi}}}}
  xe-one: {{target: kubernetes, namespace: ml, image: "intel/llm:latest", gpu: {{vram_gb: 2, pin: arc}}}}
  xe-two: {{target: kubernetes, namespace: ml, image: "intel/llm:latest", gpu: {{vram_gb: 2, pin: arc}}}}
"""


def two_gpus(infra_file, gpu_api):
    return infra_file(TWO_GPUS.replace("GPU_API", gpu_api))


def test_each_workload_gets_a_claim_template_pinning_its_gpu(infra_file):
    data = data_of(two_gpus(infra_file, "dra"))
    assert data["claim-templates/chat.yaml"] == {
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
        "metadata": {"name": "chat-gpu", "namespace": "ml"},
        "spec": {"spec": {"devices": {"requests": [{"name": "gpu-0", "exactly": {
            "deviceClassName": "gpu.nvidia.com",
            "selectors": [{"cel": {"expression": f'device.attributes["gpu.nvidia.com"].uuid == "{UUID_A}"'}}]}}]}}},
    }
    # Without a uuid, the standard PCI attribute; AMD's own pciAddr, whole GPUs only.
    assert data["claim-templates/embed.yaml"]["spec"]["spec"]["devices"]["requests"][0]["exactly"]["selectors"] == [
        {"cel": {"expression": 'device.attributes["resource.kubernetes.io"].pciBusID == "0000:02:00.0"'}}]
    assert data["claim-templates/rocm.yaml"]["spec"]["spec"]["devices"]["requests"][0]["exactly"] == {
        "deviceClassName": "gpu.amd.com",
        "selectors": [{"cel": {"expression": 'device.attributes["gpu.amd.com"].type == "amdgpu" && '
                                             'device.attributes["gpu.amd.com"].pciAddr == "0000:03:00.0"'}}]}
    patch = data["patches/chat.yaml"]["spec"]["template"]["spec"]
    assert patch["containers"] == [{"name": "chat", "resources": {"claims": [{"name": "gpu"}]}}]
    assert patch["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "chat-gpu"}]
    # No device plugin config, and no extended resource anywhere.
    assert "nvidia-device-plugin-config.yaml" not in data
    assert "limits" not in str(data)


def test_a_shared_gpu_is_one_resource_claim_that_both_pods_reference(infra_file):
    data = data_of(two_gpus(infra_file, "dra"))
    assert data["claims/amd/arc.yaml"] == {
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
        "metadata": {"name": "amd-arc", "namespace": "ml"},
        "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {
            "deviceClassName": "gpu.intel.com",
            "selectors": [{"cel": {"expression":
                                   'device.attributes["resource.kubernetes.io"].pciBusID == "0000:04:00.0"'}}]}}]}},
    }
    for name in ("xe-one", "xe-two"):
        pod = data[f"workloads/{name}.yaml"]["spec"]["template"]["spec"]
        assert pod["resourceClaims"] == [{"name": "shared-gpu-0", "resourceClaimName": "amd-arc"}]
        assert pod["containers"][0]["resources"] == {"claims": [{"name": "shared-gpu-0"}]}
        assert f"claim-templates/{name}.yaml" not in data
    assert sorted(p for p in data if p.startswith("namespaces/")) == ["namespaces/ml.yaml"]


def test_a_shared_nvidia_gpu_is_time_sliced_by_the_dra_driver(infra_file):
    data = data_of(infra_file(f"""
        project_name: t
        global: {{gpu_policy: shared, kubernetes: {{gpu_api: dra}}}}
        domains: {{}}
        hosts:
          n1:
            platform: kubernetes
            gpus:
              g: {{vendor: nvidia, vram_gb: 24, uuid: {UUID_A}}}
        workloads:
          a: {{target: kubernetes, image: "x/a:1", gpu: {{vram_gb: 2}}}}
          b: {{target: kubernetes, image: "x/b:1", gpu: {{vram_gb: 2}}}}
    """))
    assert data["claims/n1/g.yaml"]["spec"]["devices"]["config"] == [{"requests": ["gpu"], "opaque": {
        "driver": "gpu.nvidia.com",
        "parameters": {"apiVersion": "resource.nvidia.com/v1beta1", "kind": "GpuConfig",
                       "sharing": {"strategy": "TimeSlicing"}}}}]
    assert "namespaces/default.yaml" not in data


def test_built_dra_overlay_names_each_gpu_and_passes_strict_validation(tmp_path, infra_file):
    tree = compile_infra(two_gpus(infra_file, "dra")).tree
    built = kustomize(write_overlay(tmp_path, tree))
    assert built.returncode == 0, built.stderr
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built.stdout) if o}
    requests = {name: objects[("ResourceClaimTemplate", f"{name}-gpu")]["spec"]["spec"]["devices"]["requests"]
                for name in ("chat", "embed")}
    selectors = {name: [r["exactly"]["selectors"][0]["cel"]["expression"] for r in rs] for name, rs in requests.items()}
    assert selectors == {"chat": [f'device.attributes["gpu.nvidia.com"].uuid == "{UUID_A}"'],
                         "embed": ['device.attributes["resource.kubernetes.io"].pciBusID == "0000:02:00.0"']}
    for name in ("chat", "embed"):
        pod = objects[("Deployment", name)]["spec"]["template"]["spec"]
        assert pod["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": f"{name}-gpu"}]
        assert pod["containers"][0]["resources"]["claims"] == [{"name": "gpu"}]
    assert ("ResourceClaim", "amd-arc") in objects and ("Namespace", "ml") in objects
    (tmp_path / "built.yaml").write_text(built.stdout)
    result = validate("1.34", tmp_path / "built.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_validation_rejects_a_claim_request_without_exactly(tmp_path, infra_file):
    tree = dict(compile_infra(two_gpus(infra_file, "dra")).tree)
    tree["kubernetes/claim-templates/chat.yaml"] = tree["kubernetes/claim-templates/chat.yaml"].replace(
        b"exactly:", b"exactlyy:")
    built = kustomize(write_overlay(tmp_path, tree))
    (tmp_path / "built.yaml").write_text(built.stdout)
    assert validate("1.34", tmp_path / "built.yaml").returncode != 0


def test_the_device_plugin_warns_that_it_cannot_pin_the_gpu(infra_file):
    path = two_gpus(infra_file, "device-plugin")
    result = compile_infra(path)
    assert [f.format().removeprefix(f"{path.parent}/") for f in result.diag.findings if f.code == "K8S006"] == [
        "infra.yml:16:3: warning[K8S006] chat: nvidia.com/gpu: 1 lets the kubelet give it any of the 2 "
        "nvidia.com/gpu GPUs of node 'big' (a, b), so psot's choice of big/a is not enforced; set "
        "global.kubernetes.gpu_api: dra (Kubernetes 1.34 or newer) to pin it",
        "infra.yml:17:3: warning[K8S006] embed: nvidia.com/gpu: 1 lets the kubelet give it any of the 2 "
        "nvidia.com/gpu GPUs of node 'big' (a, b), so psot's choice of big/b is not enforced; set "
        "global.kubernetes.gpu_api: dra (Kubernetes 1.34 or newer) to pin it",
    ]
    # amd.com/gpu and gpu.intel.com/xe are one GPU each on node amd: nothing to choose between.
    data = {p: yaml.safe_load(c) for p, c in result.tree.items()}
    assert data["kubernetes/workloads/xe-one.yaml"]["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"gpu.intel.com/xe": 1}}


def test_dra_gives_no_device_plugin_warning(infra_file):
    result = compile_infra(two_gpus(infra_file, "dra"))
    # chat patches an object of a base that this input has not (k8s/ beside it): that alone is said.
    assert [f.code for f in result.diag.findings if f.code.startswith("K8S")] == ["K8S012"]
