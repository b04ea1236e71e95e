"""Kubernetes apply: the changed files of generated/kubernetes/ as `kubectl` (and `talosctl`) commands.

`kubectl apply --server-side --field-manager=psot -k <output>/kubernetes`
when the overlay changed; node labels and taints with `kubectl label|taint
--overwrite -- node N …` and `key-`/`key:Effect-` for those psot set before
and no longer does (nodes are never created). With `--clean-orphans`,
`kubectl delete` removes a whole workload object psot created. Every kubectl
command names `--context=<global.kubernetes.context>` when it is set, so
apply never acts on whatever context happens to be current.

A Talos node (`kubernetes/talos/<host>.yaml` beside its Node file) keeps
its labels and taints in its machine config: `talosctl patch mc --nodes
<host> --patch @kubernetes/talos/<host>.yaml`, and for those psot set
before and no longer does, a JSON patch (RFC 6902) `remove` of their keys
(`/machine/nodeLabels/<key>`, `/machine/nodeTaints/<key>`, `/` in a key
written `~1`). `--nodes` is the host's name: talosctl must reach the node by
it (its talosconfig endpoints and DNS).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath

from generator.apply.units import (
    Change,
    Context,
    Program,
    Step,
    Unit,
    action_of,
    as_mapping,
    key_values,
    parse_yaml,
    path_argument,
)
from generator.platforms.kubernetes import NAME, settings, talos

FIELD_MANAGER = "psot"
NODES = f"{NAME}/nodes/"
TALOS = f"{NAME}/{talos.FOLDER}/"


def kubectl(ctx: Context) -> tuple[str, ...]:
    """`kubectl`, with the context infra.yml names."""
    context = settings.context(ctx.infra_data)
    return ("kubectl", f"--context={context}") if context else ("kubectl",)


def _pointer(*keys: str) -> str:
    """A JSON pointer (RFC 6901) to the keys."""
    return "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in keys)


def _node(content: bytes | None) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Labels, and taints as (key, effect) -> value, of a generated Node file."""
    body = as_mapping(parse_yaml(content))
    labels = {str(k): str(v) for k, v in as_mapping(as_mapping(body.get("metadata")).get("labels")).items()}
    taints = {}
    for taint in as_mapping(body.get("spec")).get("taints") or []:
        if isinstance(taint, dict) and "key" in taint:
            taints[(str(taint["key"]), str(taint.get("effect", "NoSchedule")))] = str(taint.get("value") or "")
    return labels, taints


def units(changes: list[Change], ctx: Context, desired: Mapping[str, bytes],
          applied: Mapping[str, bytes]) -> list[Unit]:
    """The overlay as one unit (one `kubectl apply -k`), then one unit per changed node."""
    out: list[Unit] = []
    overlay = [(p, o, n) for p, o, n in changes if not p.startswith((NODES, TALOS))]
    if overlay:
        files = {p: n for p, _, n in overlay}
        steps = []
        if any(n is not None for _, _, n in overlay) and "kubernetes/kustomization.yaml" in desired:
            reads = tuple((ctx.source_path(p), c) for p, c in sorted(desired.items()) if p.startswith("kubernetes/"))
            steps.append(Step((*kubectl(ctx), "apply", "--server-side", f"--field-manager={FIELD_MANAGER}",
                               "-k", path_argument(ctx.source_label("kubernetes"))), reads=reads))
        for path, old, new in overlay:
            if new is None and path.startswith("kubernetes/workloads/") and ctx.clean_orphans and old is not None:
                steps.append(Step((*kubectl(ctx), "delete", "--ignore-not-found", "-f", "-"), old,
                                  f"(last applied {path})"))
        out.append(Unit(NAME, action_of([(o, n) for _, o, n in overlay]), files, steps))
    node_changes = {PurePosixPath(p).stem: (o, n) for p, o, n in changes if p.startswith(NODES)}
    talos_changes = {PurePosixPath(p).stem for p, _, _ in changes if p.startswith(TALOS)}
    for name in sorted(set(node_changes) | talos_changes):
        path, talos_path = f"{NODES}{name}.yaml", f"{TALOS}{name}.yaml"
        old, new = node_changes.get(name, (applied.get(path), desired.get(path)))
        if new is None and not ctx.clean_orphans:
            continue
        node = str(as_mapping(as_mapping(parse_yaml(new or old)).get("metadata")).get("name") or name)
        if talos_path in desired or name in talos_changes:
            out.append(_talos_unit(ctx, node, path, (old, new), talos_path, desired, applied))
        else:
            out.append(Unit(NAME, action_of([(old, new)]), {path: new}, _kubectl_steps(ctx, node, old, new)))
    return out


def _kubectl_steps(ctx: Context, node: str, old: bytes | None, new: bytes | None) -> list[Step]:
    """`kubectl label` and `kubectl taint` from the node's labels and taints before (`old`) to `new`."""
    (old_labels, old_taints), (new_labels, new_taints) = _node(old), _node(new)
    steps = []
    sets = {k: v for k, v in new_labels.items() if old_labels.get(k) != v}
    if sets:
        steps.append(Step((*kubectl(ctx), "label", "--overwrite", "--", "node", node, *key_values(sets))))
    gone = sorted(set(old_labels) - set(new_labels))
    if gone:
        steps.append(Step((*kubectl(ctx), "label", "--", "node", node, *[f"{k}-" for k in gone])))
    for key, effect in sorted(set(old_taints) - set(new_taints)):
        steps.append(Step((*kubectl(ctx), "taint", "--", "node", node, f"{key}:{effect}-")))
    for (key, effect), value in sorted(new_taints.items()):
        if old_taints.get((key, effect)) != value:
            spec = f"{key}={value}:{effect}" if value else f"{key}:{effect}"
            steps.append(Step((*kubectl(ctx), "taint", "--overwrite", "--", "node", node, spec)))
    return steps


def _talos_unit(ctx: Context, node: str, path: str, node_files: tuple[bytes | None, bytes | None],
                talos_path: str, desired: Mapping[str, bytes], applied: Mapping[str, bytes]) -> Unit:
    """`talosctl patch mc` of a Talos node: its machine config patch, then the removal of what it dropped."""
    old, new = applied.get(talos_path), desired.get(talos_path)
    before = as_mapping(as_mapping(parse_yaml(old)).get("machine"))
    after = as_mapping(as_mapping(parse_yaml(new)).get("machine"))
    base = ("talosctl", "patch", "mc", "--nodes", node, "--patch")
    steps = []
    if new is not None and before != after:
        steps.append(Step((*base, "@" + ctx.source_label(talos_path)), reads=((ctx.source_path(talos_path), new),)))
    removals = [{"op": "remove", "path": _pointer("machine", section, key)}
                for section in ("nodeLabels", "nodeTaints")
                for key in sorted(set(as_mapping(before.get(section))) - set(as_mapping(after.get(section))))]
    if removals:
        steps.append(Step((*base, json.dumps(removals, separators=(",", ":")))))
    return Unit(NAME, action_of([node_files, (old, new)]), {path: node_files[1], talos_path: new}, steps)


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    """`kubectl`, in the context infra.yml names or else the current one; `talosctl` for Talos nodes."""
    context = settings.context(ctx.infra_data)
    out = [Program(NAME, None, kubectl(ctx), f"in kube context {context}" if context else
                   "in kubectl's current context (`kubectl config current-context`)",
                   ("global.kubernetes.context",) if context else ())]
    if any(p.startswith(TALOS) for p in files):
        out.append(Program(NAME, None, ("talosctl",), "on the Talos nodes by name, with talosctl's current config",
                           ("hosts.<host>.talos",)))
    return out
