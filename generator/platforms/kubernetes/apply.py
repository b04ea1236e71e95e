"""Kubernetes apply: the changed files of generated/kubernetes/ as `kubectl` commands.

`kubectl apply --server-side --field-manager=psot -k <output>/kubernetes`
when the overlay changed; node labels and taints with `kubectl label|taint
--overwrite -- node N …` and `key-`/`key:Effect-` for those psot set before
and no longer does (nodes are never created). With `--clean-orphans`,
`kubectl delete` removes a whole workload object psot created.
"""

from __future__ import annotations

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
from generator.platforms.kubernetes import NAME

FIELD_MANAGER = "psot"


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
    overlay = [(p, o, n) for p, o, n in changes if not p.startswith("kubernetes/nodes/")]
    if overlay:
        files = {p: n for p, _, n in overlay}
        steps = []
        if any(n is not None for _, _, n in overlay) and "kubernetes/kustomization.yaml" in desired:
            reads = tuple((ctx.source_path(p), c) for p, c in sorted(desired.items()) if p.startswith("kubernetes/"))
            steps.append(Step(("kubectl", "apply", "--server-side", f"--field-manager={FIELD_MANAGER}",
                               "-k", path_argument(ctx.source_label("kubernetes"))), reads=reads))
        for path, old, new in overlay:
            if new is None and path.startswith("kubernetes/workloads/") and ctx.clean_orphans and old is not None:
                steps.append(Step(("kubectl", "delete", "--ignore-not-found", "-f", "-"), old,
                                  f"(last applied {path})"))
        out.append(Unit(NAME, action_of([(o, n) for _, o, n in overlay]), files, steps))
    for path, old, new in sorted(changes):
        if not path.startswith("kubernetes/nodes/"):
            continue
        if new is None and not ctx.clean_orphans:
            continue
        name = PurePosixPath(path).stem
        body = as_mapping(as_mapping(parse_yaml(new or old)).get("metadata"))
        node = str(body.get("name") or name)
        (old_labels, old_taints), (new_labels, new_taints) = _node(old), _node(new)
        steps = []
        sets = {k: v for k, v in new_labels.items() if old_labels.get(k) != v}
        if sets:
            steps.append(Step(("kubectl", "label", "--overwrite", "--", "node", node, *key_values(sets))))
        gone = sorted(set(old_labels) - set(new_labels))
        if gone:
            steps.append(Step(("kubectl", "label", "--", "node", node, *[f"{k}-" for k in gone])))
        for key, effect in sorted(set(old_taints) - set(new_taints)):
            steps.append(Step(("kubectl", "taint", "--", "node", node, f"{key}:{effect}-")))
        for (key, effect), value in sorted(new_taints.items()):
            if old_taints.get((key, effect)) != value:
                spec = f"{key}={value}:{effect}" if value else f"{key}:{effect}"
                steps.append(Step(("kubectl", "taint", "--overwrite", "--", "node", node, spec)))
        action = action_of([(old, new)])
        out.append(Unit(NAME, action, {path: new}, steps))
    return out


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    """`kubectl`, in its current context."""
    return [Program(NAME, None, ("kubectl",), "in kubectl's current context (`kubectl config current-context`)")]
