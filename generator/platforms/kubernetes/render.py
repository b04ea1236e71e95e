"""Kubernetes: a kustomize overlay over the user's manifests, node labels and taints, GPU sharing.

`kubernetes/kustomization.yaml` is an overlay: its resources are the
user's own kustomize directory (`global.kubernetes.base`, relative to
infra.yml, default `k8s/`) and the device plugin config; its patches are
`kubernetes/patches/<workload>.yaml`, one strategic-merge patch per
Kubernetes workload, of the object `kind` (default Deployment) named `name`
(default: the workload name) in `namespace` (default `default`). Apply it
with `kubectl apply -k generated/kubernetes`.

A patch sets, on the pod template:
- `resources.limits` of the container named like the workload (the
  workload's key in infra.yml, always a valid container name; a patch must
  name the container it changes, and the strategic merge of `containers`
  goes by name): the vendor's device plugin resource, counted over the GPUs
  placement gave it: `nvidia.com/gpu` (NVIDIA device plugin), `amd.com/gpu`
  (ROCm device plugin), `gpu.intel.com/i915` (Intel GPU plugin). Extended
  resources cannot be overcommitted, so Kubernetes sets the requests to the
  limits itself.
- `affinity.nodeAffinity` required on `kubernetes.io/hostname` In the
  nodes it runs on: its `host`, and the hosts of its GPUs (seed 002).
- `tolerations`: one per taint of those nodes (Equal when the taint has a
  value, else Exists). Kubernetes replaces a pod's tolerations as a whole in
  a strategic merge, so the list is the node's taints, not an addition to
  the user's list.
- `runtimeClassName` when the workload sets `runtime_class`. Never implied
  by an NVIDIA GPU: a RuntimeClass the cluster lacks makes the pod fail
  admission, and many clusters make the NVIDIA runtime the default one.

`kubernetes/nodes/<host>.yaml`, for every `platform: kubernetes` host, is
its Node with `labels` and `taints` (a taint without `effect` is
NoSchedule, as `kubectl taint` users write it most). A workload with
`dedicated_node: true` adds the taint `dedicated=<workload>:NoSchedule` to
its nodes (seed 002's `dedicated: "vllm:NoSchedule"`), unless the node
already declares a NoSchedule taint with key `dedicated`. Node files are not
in the kustomization: a node's taints are one list that the kubelet and
`kubectl cordon` also write, so they are applied to existing nodes on their
own (`kubectl apply -f generated/kubernetes/nodes/`), never created.

`kubernetes/nvidia-device-plugin-config.yaml`, when a Kubernetes node has an
NVIDIA GPU that placement gave to several Kubernetes workloads: the NVIDIA
device plugin's config files in the ConfigMap its Helm chart reads
(`helm upgrade -i nvdp nvdp/nvidia-device-plugin -n nvidia-device-plugin
--set config.name=nvidia-device-plugin-config`). The plugin shares all GPUs
of a node alike, so a node gets `replicas` = the most workloads on one of its
NVIDIA GPUs, through the config `time-slicing-<replicas>` that its Node
selects with the label `nvidia.com/device-plugin.config`. The key `default`
(no sharing) is what every other node runs, as the chart picks a key named
`default` when `config.default` is unset.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from generator.hardware import nvidia, tables
from generator.model.core import Infra
from generator.model.hosts import Taint
from generator.placement.core import Placement
from generator.platforms.kubernetes import NAME
from generator.serialize import dump_yaml

KINDS = ("Deployment", "StatefulSet", "DaemonSet")
DEFAULT_KIND = "Deployment"
DEFAULT_NAMESPACE = "default"
DEFAULT_BASE = "k8s"
DEFAULT_EFFECT = "NoSchedule"
DEDICATED_KEY = "dedicated"
HOSTNAME_LABEL = "kubernetes.io/hostname"
APP_LABEL = "app.kubernetes.io/name"

DEVICE_PLUGIN_CONFIG = "nvidia-device-plugin-config"
DEVICE_PLUGIN_FILE = f"{DEVICE_PLUGIN_CONFIG}.yaml"
DEVICE_PLUGIN_NAMESPACE = "nvidia-device-plugin"
DEVICE_PLUGIN_LABEL = "nvidia.com/device-plugin.config"
NO_SHARING = "default"

_BASE_PATH = re.compile(r"^[A-Za-z0-9._/-]+$")


def kubernetes_workloads(infra: Infra) -> dict[str, Mapping[str, Any]]:
    """Workload name -> its mapping in infra.yml, for `target: kubernetes`, by name (GPU or not)."""
    # The mappings as written, not infra.workloads: the objects are rendered from keys the views do not carry.
    section = infra.data.get("workloads") or {}
    return {name: spec or {} for name, spec in sorted(section.items())
            if (spec or {}).get("target") == "kubernetes"}


def nodes_of(infra: Infra, placement: Placement, name: str, spec: Mapping[str, Any]) -> list[str]:
    """The nodes a workload runs on: its `host` and the hosts of its GPUs (the rules' workloads_by_node)."""
    nodes = {spec["host"]} if spec.get("host") else set()
    assignment = placement.assignments.get(name)
    consumer = infra.consumers.get(name)
    if assignment is not None and consumer is not None and consumer.path == ("workloads", name):
        nodes |= {infra.gpus[key].host for key in assignment.gpus}
    return sorted(nodes)


def _taint(declared: Taint) -> dict[str, Any]:
    taint: dict[str, Any] = {"key": declared.key}
    if declared.value is not None:
        taint["value"] = declared.value
    taint["effect"] = declared.effect or DEFAULT_EFFECT
    return taint


def node_taints(infra: Infra, placement: Placement) -> dict[str, list[dict[str, Any]]]:
    """Host -> its taints: those it declares, then the `dedicated` taint of a dedicated workload."""
    taints = {name: [_taint(t) for t in host.taints] for name, host in infra.hosts.items()}
    for name, spec in kubernetes_workloads(infra).items():
        if spec.get("dedicated_node") is not True:
            continue
        for node in nodes_of(infra, placement, name, spec):
            declared = taints.setdefault(node, [])
            if not any(t["key"] == DEDICATED_KEY and t["effect"] == DEFAULT_EFFECT for t in declared):
                declared.append({"key": DEDICATED_KEY, "value": name, "effect": DEFAULT_EFFECT})
    return taints


def toleration(taint: Mapping[str, Any]) -> dict[str, Any]:
    if "value" in taint:
        return {"key": taint["key"], "operator": "Equal", "value": taint["value"], "effect": taint["effect"]}
    return {"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}


def gpu_limits(infra: Infra, gpus: tuple[str, ...]) -> dict[str, int]:
    """Device plugin resource -> how many of the workload's GPUs it names."""
    counts = Counter(tables.vendor(infra.gpus[key].vendor).kubernetes_resource for key in gpus)
    return dict(sorted(counts.items()))


def pod_spec(infra: Infra, placement: Placement, name: str, spec: Mapping[str, Any],
             taints: Mapping[str, list[dict[str, Any]]], container: dict[str, Any]) -> dict[str, Any]:
    """The pod template spec psot sets: GPU limits on `container`, node affinity, tolerations, runtime class."""
    assignment = placement.assignments.get(name)
    nodes = nodes_of(infra, placement, name, spec)
    pod: dict[str, Any] = {}
    limits = gpu_limits(infra, assignment.gpus) if assignment is not None else {}
    if limits:
        container = {**container, "resources": {"limits": limits}}
    if len(container) > 1:
        pod["containers"] = [container]
    if nodes:
        pod["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": HOSTNAME_LABEL, "operator": "In", "values": nodes}]}]}}}
    tolerations: list[dict[str, Any]] = []
    for node in nodes:
        for taint in taints.get(node, []):
            if toleration(taint) not in tolerations:
                tolerations.append(toleration(taint))
    if tolerations:
        pod["tolerations"] = tolerations
    if spec.get("runtime_class"):
        pod["runtimeClassName"] = spec["runtime_class"]
    return pod


def _header(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    kind = spec.get("kind", DEFAULT_KIND)
    if kind not in KINDS:
        raise ValueError(f"workload {name}: kind {kind!r} is not one of {', '.join(KINDS)}")
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": spec.get("name", name), "namespace": spec.get("namespace", DEFAULT_NAMESPACE)}}


def patch(infra: Infra, placement: Placement, name: str, spec: Mapping[str, Any],
          taints: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The strategic-merge patch of one workload's object in your manifests."""
    out = _header(name, spec)
    pod = pod_spec(infra, placement, name, spec, taints, {"name": name})
    if pod:
        out["spec"] = {"template": {"spec": pod}}
    return out


def whole_object(infra: Infra, placement: Placement, name: str, spec: Mapping[str, Any],
                 taints: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The whole Deployment, StatefulSet or DaemonSet of a workload that gives an `image`.

    Its pods are selected by `app.kubernetes.io/name: <workload>`; a StatefulSet
    names a governing Service of the same name (which you provide).
    """
    out = _header(name, spec)
    labels = {APP_LABEL: name}
    out["metadata"]["labels"] = dict(labels)
    body: dict[str, Any] = {}
    if out["kind"] != "DaemonSet":
        body["replicas"] = int(spec.get("replicas", 1))
    if out["kind"] == "StatefulSet":
        body["serviceName"] = spec.get("name", name)
    body["selector"] = {"matchLabels": dict(labels)}
    body["template"] = {"metadata": {"labels": dict(labels)},
                        "spec": pod_spec(infra, placement, name, spec, taints,
                                         {"name": name, "image": spec["image"]})}
    out["spec"] = body
    return out


def time_slicing(infra: Infra, placement: Placement) -> dict[str, int]:
    """Kubernetes node -> time-slicing replicas, for nodes with an NVIDIA GPU shared by Kubernetes workloads."""
    workloads = kubernetes_workloads(infra)
    replicas: dict[str, int] = {}
    for key, gpu in infra.gpus.items():
        use = placement.gpus.get(key)
        if gpu.vendor != nvidia.VENDOR.key or use is None or infra.hosts[gpu.host].platform != "kubernetes":
            continue
        sharing = sum(1 for c in use.consumers if c in workloads)
        if sharing > 1:
            replicas[gpu.host] = max(replicas.get(gpu.host, 0), sharing)
    return dict(sorted(replicas.items()))


def sharing_config(replicas: int) -> str:
    """One config file of the NVIDIA device plugin (its README, "Shared Access to GPUs")."""
    config: dict[str, Any] = {"version": "v1"}
    if replicas > 1:
        config["sharing"] = {"timeSlicing": {"resources": [{"name": nvidia.VENDOR.kubernetes_resource,
                                                            "replicas": replicas}]}}
    return dump_yaml(config)


def config_name(replicas: int) -> str:
    return f"time-slicing-{replicas}"


def device_plugin_config(replicas: Mapping[str, int]) -> dict[str, Any]:
    data = {NO_SHARING: sharing_config(1)}
    for n in sorted(set(replicas.values())):
        data[config_name(n)] = sharing_config(n)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": DEVICE_PLUGIN_CONFIG, "namespace": DEVICE_PLUGIN_NAMESPACE},
        "data": data,
    }


def node(name: str, labels: Mapping[str, str], taints: list[dict[str, Any]]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = dict(sorted(labels.items()))
    out: dict[str, Any] = {"apiVersion": "v1", "kind": "Node", "metadata": metadata}
    if taints:
        out["spec"] = {"taints": taints}
    return out


def base_resource(infra: Infra) -> str:
    """The user's kustomize directory as the generated kustomization names it (relative to it).

    `global.kubernetes.base` is relative to infra.yml; so is the output
    directory the pipeline found (`--output-dir`, `global.output_dir` or
    generated/), wherever it is.
    """
    glob = infra.data.get("global") or {}   # as written: the model does not carry the kustomize base
    base = str((glob.get("kubernetes") or {}).get("base", DEFAULT_BASE))
    if not _BASE_PATH.match(base):
        raise ValueError(f"unsafe path for the kustomization: {base!r}")
    if posixpath.isabs(base):
        return posixpath.normpath(base)
    # Both made absolute from infra.yml's directory, so that an output directory outside the project (`..`) is
    # resolved against the project, not against psot's working directory.
    start = posixpath.normpath(posixpath.join(infra.project_dir, infra.output_dir, NAME))
    return posixpath.relpath(posixpath.normpath(posixpath.join(infra.project_dir, base)), start)


def render(infra: Infra, placement: Placement) -> dict[str, Any]:
    workloads = kubernetes_workloads(infra)
    taints = node_taints(infra, placement)
    replicas = time_slicing(infra, placement)
    tree: dict[str, Any] = {}
    patched = {n: s for n, s in workloads.items() if not s.get("image")}
    whole = {n: s for n, s in workloads.items() if s.get("image")}
    # Your manifests are the base only when some workload patches them.
    resources: list[str] = [base_resource(infra)] if patched else []
    if replicas:
        tree[f"{NAME}/{DEVICE_PLUGIN_FILE}"] = device_plugin_config(replicas)
        resources.append(DEVICE_PLUGIN_FILE)
    for name, spec in whole.items():
        tree[f"{NAME}/workloads/{name}.yaml"] = whole_object(infra, placement, name, spec, taints)
        resources.append(f"workloads/{name}.yaml")
    for name, spec in patched.items():
        tree[f"{NAME}/patches/{name}.yaml"] = patch(infra, placement, name, spec, taints)
    for name, host in infra.hosts.items():
        if host.platform != "kubernetes":
            continue
        labels = dict(host.labels)
        if name in replicas:
            labels[DEVICE_PLUGIN_LABEL] = config_name(replicas[name])
        tree[f"{NAME}/nodes/{name}.yaml"] = node(name, labels, taints.get(name, []))
    if not tree:
        return {}
    tree[f"{NAME}/kustomization.yaml"] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
        **({"patches": [{"path": f"patches/{name}.yaml"} for name in patched]} if patched else {}),
    }
    return dict(sorted(tree.items()))
