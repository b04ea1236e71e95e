"""Kubernetes: a kustomize overlay over the user's manifests, node labels and taints, GPU sharing.

`kubernetes/kustomization.yaml` is an overlay: its resources are the
user's own kustomize directory (`global.kubernetes.base`, relative to
infra.yml, default `k8s/`; rule K8S008 checks it is there), the Namespaces
and the GPU objects psot creates; its patches are
`kubernetes/patches/<workload>.yaml`, one strategic-merge patch per
Kubernetes workload, of the object `kind` (default Deployment) named `name`
(default: the workload name) in `namespace` (default `default`). Apply it
with `kubectl apply -k generated/kubernetes`.

A patch sets, on the pod template:
- the GPU, on the container named like the workload (the workload's key in
  infra.yml, always a valid container name; a patch must name the container
  it changes, and the strategic merge of `containers` goes by name). With
  `gpu_api: device-plugin` (default), `resources.limits` of the vendor's
  device plugin resource, counted over the GPUs placement gave it (gpus.py:
  `nvidia.com/gpu`, `amd.com/gpu`, `gpu.intel.com/i915`, `gpu.intel.com/xe`);
  extended resources cannot be overcommitted, so Kubernetes sets the
  requests to the limits itself. The kubelet picks which GPU of the node
  the pod gets (rule K8S006). With `gpu_api: dra`, `resources.claims` and
  the pod's `resourceClaims`, naming the claims that select the very GPUs
  placement chose (dra.py).
- `affinity.nodeAffinity` required on `kubernetes.io/hostname` In the
  nodes it runs on: its `host`, and the hosts of its GPUs (seed 002). The
  terms of the user's object (read from the base, base.py) are kept, each
  with psot's expression added (terms are ORed, expressions ANDed): a
  strategic merge replaces the list of terms as a whole.
- `tolerations`: the user's object's own, then one per taint of those nodes
  (Equal when the taint has a value, else Exists) that it lacks: a
  strategic merge replaces a pod's tolerations as a whole too.
- `runtimeClassName` when the workload sets `runtime_class`. Never implied
  by an NVIDIA GPU: a RuntimeClass the cluster lacks makes the pod fail
  admission, and many clusters make the NVIDIA runtime the default one.

`kubernetes/namespaces/<namespace>.yaml`: a Namespace for each namespace
that the objects psot creates live in (the whole objects of workloads with
an `image`, the DRA claims, the device plugin config), unless it is
`default`, `kube-system`, `kube-public` or `kube-node-lease`, or your base
declares it; `global.kubernetes.create_namespaces: false` renders none.

`kubernetes/nodes/<host>.yaml`, for every `platform: kubernetes` host, is
its Node with `labels` and `taints` (a taint without `effect` is
NoSchedule, as `kubectl taint` users write it most). A workload with
`dedicated_node: true` adds the taint `dedicated=<workload>:NoSchedule` to
its nodes (seed 002's `dedicated: "vllm:NoSchedule"`), unless the node
already declares a NoSchedule taint with key `dedicated`. Node files are not
in the kustomization: a node's taints are one list that the kubelet and
`kubectl cordon` also write, so they are applied to existing nodes on their
own (`kubectl label` and `kubectl taint`), never created. A Talos node
(`talos: true`) also gets `kubernetes/talos/<host>.yaml`, the machine config
patch that holds them there (talos.py).

`kubernetes/nvidia-device-plugin-config.yaml`, with the device plugin, when
a Kubernetes node has an NVIDIA GPU that placement gave to several
Kubernetes workloads: the NVIDIA device plugin's config files in the
ConfigMap its Helm chart reads (`helm upgrade -i nvdp nvdp/nvidia-device-plugin
-n nvidia-device-plugin --set config.name=nvidia-device-plugin-config`).
The plugin shares all GPUs of a node alike, so a node gets `replicas` = the
most workloads on one of its NVIDIA GPUs, through the config
`time-slicing-<replicas>` that its Node selects with the label
`nvidia.com/device-plugin.config`. Each config sets
`failRequestsGreaterThanOne: true`: without it a pod asking for 2 GPUs
would get 2 slices of one GPU (the plugin's README, "With CUDA
Time-Slicing", https://github.com/NVIDIA/k8s-device-plugin). The key
`default` (no sharing) is what every other node runs, as the chart picks a
key named `default` when `config.default` is unset.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.hardware import nvidia
from generator.model.core import Infra
from generator.model.hosts import Taint
from generator.placement.core import Placement
from generator.platforms.kubernetes import NAME, base, dra, settings, talos
from generator.platforms.kubernetes.gpus import device_plugin_resource
from generator.serialize import dump_yaml

KINDS = base.WORKLOAD_KINDS
DEFAULT_KIND = "Deployment"
DEFAULT_NAMESPACE = base.DEFAULT_NAMESPACE
DEFAULT_EFFECT = "NoSchedule"
DEDICATED_KEY = "dedicated"
HOSTNAME_LABEL = "kubernetes.io/hostname"
APP_LABEL = "app.kubernetes.io/name"
# Namespaces every cluster has: never rendered.
BUILT_IN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")

DEVICE_PLUGIN_CONFIG = "nvidia-device-plugin-config"
DEVICE_PLUGIN_FILE = f"{DEVICE_PLUGIN_CONFIG}.yaml"
DEVICE_PLUGIN_NAMESPACE = "nvidia-device-plugin"
DEVICE_PLUGIN_LABEL = "nvidia.com/device-plugin.config"
NO_SHARING = "default"


@dataclass(frozen=True)
class Cluster:
    """What every workload's objects are rendered from: the model, its placement and what they derive."""
    infra: Infra
    placement: Placement
    taints: Mapping[str, list[dict[str, Any]]]          # node -> its taints (node_taints)
    dra: bool                                             # gpu_api: dra
    shared: Mapping[str, list[str]]                       # with DRA: `host/gpu` -> the workloads sharing it
    base_pods: Mapping[tuple[str, str, str], Mapping[str, Any]]   # the base's pod specs (base.pod_specs)


def kubernetes_workloads(infra: Infra) -> dict[str, Mapping[str, Any]]:
    """Workload name -> its mapping in infra.yml, for `target: kubernetes`, by name (GPU or not)."""
    # The mappings as written, not infra.workloads: the objects are rendered from keys the views do not carry.
    section = infra.data.get("workloads") or {}
    return {name: spec or {} for name, spec in sorted(section.items())
            if (spec or {}).get("target") == "kubernetes"}


def gpus_of(infra: Infra, placement: Placement, name: str) -> tuple[str, ...]:
    """The `host/gpu` keys placement gave the workload `name` (none when a machine has the name)."""
    assignment = placement.assignments.get(name)
    consumer = infra.consumers.get(name)
    if assignment is None or consumer is None or consumer.path != ("workloads", name):
        return ()
    return assignment.gpus


def nodes_of(infra: Infra, placement: Placement, name: str, spec: Mapping[str, Any]) -> list[str]:
    """The nodes a workload runs on: its `host` and the hosts of its GPUs (the rules' workloads_by_node)."""
    nodes = {spec["host"]} if spec.get("host") else set()
    nodes |= {infra.gpus[key].host for key in gpus_of(infra, placement, name)}
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
    counts = Counter(device_plugin_resource(infra.gpus[key]) for key in gpus)
    return dict(sorted(counts.items()))


def _node_terms(own: list[Any], nodes: list[str]) -> list[dict[str, Any]]:
    """The user's node selector terms, each ANDed with psot's `kubernetes.io/hostname In nodes`."""
    expression = {"key": HOSTNAME_LABEL, "operator": "In", "values": nodes}
    terms = [t for t in own if isinstance(t, dict)] or [{}]
    out = []
    for term in terms:
        expressions = [e for e in term.get("matchExpressions") or [] if e != expression]
        out.append({**term, "matchExpressions": [*expressions, expression]})
    return out


def _required_terms(pod: Mapping[str, Any]) -> list[Any]:
    """The nodeSelectorTerms of a pod spec's required node affinity, as the user wrote them."""
    node_affinity = (pod.get("affinity") or {}).get("nodeAffinity") or {}
    terms = (node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms")
    return terms if isinstance(terms, list) else []


def pod_spec(cluster: Cluster, name: str, spec: Mapping[str, Any], container: dict[str, Any],
             own: Mapping[str, Any]) -> dict[str, Any]:
    """The pod template spec psot sets: the GPU on `container`, node affinity, tolerations, runtime class.

    `own` is the pod spec of the user's object (empty for a whole object), whose tolerations and node
    selector terms are kept."""
    infra, placement = cluster.infra, cluster.placement
    gpus = gpus_of(infra, placement, name)
    nodes = nodes_of(infra, placement, name, spec)
    pod: dict[str, Any] = {}
    claims = dra.pod_claims(infra, name, gpus, cluster.shared) if cluster.dra else []
    if claims:
        container = {**container, "resources": {"claims": [{"name": c["name"]} for c in claims]}}
    elif gpus and not cluster.dra:
        container = {**container, "resources": {"limits": gpu_limits(infra, gpus)}}
    if len(container) > 1:
        pod["containers"] = [container]
    if claims:
        pod["resourceClaims"] = claims
    if nodes:
        pod["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": _node_terms(_required_terms(own), nodes)}}}
    tolerations: list[Any] = list(own.get("tolerations") or []) if isinstance(own.get("tolerations"), list) else []
    for node in nodes:
        for taint in cluster.taints.get(node, []):
            if toleration(taint) not in tolerations:
                tolerations.append(toleration(taint))
    if tolerations:
        pod["tolerations"] = tolerations
    if spec.get("runtime_class"):
        pod["runtimeClassName"] = spec["runtime_class"]
    return pod


def identity(name: str, spec: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of the workload's object."""
    return (str(spec.get("kind", DEFAULT_KIND)), str(spec.get("namespace", DEFAULT_NAMESPACE)),
            str(spec.get("name", name)))


def _header(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    kind, namespace, object_name = identity(name, spec)
    if kind not in KINDS:
        raise ValueError(f"workload {name}: kind {kind!r} is not one of {', '.join(KINDS)}")
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": object_name, "namespace": namespace}}


def patch(cluster: Cluster, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The strategic-merge patch of one workload's object in your manifests."""
    out = _header(name, spec)
    pod = pod_spec(cluster, name, spec, {"name": name}, cluster.base_pods.get(identity(name, spec), {}))
    if pod:
        out["spec"] = {"template": {"spec": pod}}
    return out


def whole_object(cluster: Cluster, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
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
                        "spec": pod_spec(cluster, name, spec, {"name": name, "image": spec["image"]}, {})}
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
        config["sharing"] = {"timeSlicing": {
            "failRequestsGreaterThanOne": True,
            "resources": [{"name": nvidia.VENDOR.kubernetes_resource, "replicas": replicas}]}}
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


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _gpu_objects(cluster: Cluster, workloads: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """With DRA: each workload's ResourceClaimTemplate and each shared GPU's ResourceClaim, by file."""
    infra, placement = cluster.infra, cluster.placement
    out = {}
    for name, spec in workloads.items():
        own = [infra.gpus[k] for k in gpus_of(infra, placement, name) if k not in cluster.shared]
        if own:
            out[f"claim-templates/{name}.yaml"] = dra.template(name, identity(name, spec)[1], own)
    for key, names in cluster.shared.items():
        gpu = infra.gpus[key]
        # One namespace for all of them (rule K8S010 reports workloads that share a GPU across namespaces).
        out[f"claims/{gpu.host}/{gpu.name}.yaml"] = dra.shared_claim(gpu, identity(names[0], workloads[names[0]])[1])
    return out


def render(infra: Infra, placement: Placement) -> dict[str, Any]:
    workloads = kubernetes_workloads(infra)
    patched = {n: s for n, s in workloads.items() if not s.get("image")}
    whole = {n: s for n, s in workloads.items() if s.get("image")}
    found = base.objects(infra) if patched else []
    use_dra = settings.gpu_api(infra.data) == settings.DRA
    cluster = Cluster(infra, placement, node_taints(infra, placement), use_dra,
                      dra.shared_gpus(placement, workloads) if use_dra else {}, base.pod_specs(found))
    replicas = {} if use_dra else time_slicing(infra, placement)
    objects: dict[str, dict[str, Any]] = {}     # the overlay's own resources, by path under kubernetes/
    if replicas:
        objects[DEVICE_PLUGIN_FILE] = device_plugin_config(replicas)
    objects |= _gpu_objects(cluster, workloads) if use_dra else {}
    for name, spec in whole.items():
        objects[f"workloads/{name}.yaml"] = whole_object(cluster, name, spec)
    tree: dict[str, Any] = {}
    if settings.create_namespaces(infra.data):
        used = {o["metadata"]["namespace"] for o in objects.values()}
        for ns in sorted(used - set(BUILT_IN_NAMESPACES) - base.namespaces(found)):
            tree[f"{NAME}/namespaces/{ns}.yaml"] = namespace(ns)
    tree |= {f"{NAME}/{path}": body for path, body in objects.items()}
    for name, spec in patched.items():
        tree[f"{NAME}/patches/{name}.yaml"] = patch(cluster, name, spec)
    for name, host in infra.hosts.items():
        if host.platform != "kubernetes":
            continue
        labels = dict(host.labels)
        if name in replicas:
            labels[DEVICE_PLUGIN_LABEL] = config_name(replicas[name])
        tree[f"{NAME}/nodes/{name}.yaml"] = node(name, labels, cluster.taints.get(name, []))
        if talos.is_talos(host.spec):
            tree[f"{NAME}/{talos.FOLDER}/{name}.yaml"] = talos.machine_config_patch(
                labels, cluster.taints.get(name, []))
    if not tree:
        return {}
    # Your manifests are the base only when some workload patches them.
    resources = [base.relative_to_overlay(infra)] if patched else []
    resources += sorted(p.removeprefix(f"{NAME}/") for p in tree
                        if p.startswith((f"{NAME}/namespaces/", *(f"{NAME}/{o}" for o in objects))))
    tree[f"{NAME}/kustomization.yaml"] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
        **({"patches": [{"path": f"patches/{name}.yaml"} for name in patched]} if patched else {}),
    }
    return dict(sorted(tree.items()))
