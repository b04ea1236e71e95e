"""The user's kustomize base (`global.kubernetes.base`): where it is, whether kustomize can build it, and the
objects it declares.

The generated overlay patches objects of the base; a strategic-merge patch
replaces a pod's `tolerations` and a node affinity's `nodeSelectorTerms`
as whole lists (neither has a merge key in the Kubernetes API), so psot
reads the user's lists from the base and writes them back with its own
entries added. The base is read as kustomize would load its resources: the
files and directories its kustomization lists (`resources`, and the older
`bases`), recursively, a kustomization's `namespace` applying to the
objects under it. Remote resources (URLs), generators and the base's own
patches are not read: an object only they change is seen as its files
declare it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from generator.model.core import Infra
from generator.platforms.kubernetes import settings

# The file names kustomize looks for in a directory (sigs.k8s.io/kustomize/api/konfig,
# RecognizedKustomizationFileNames).
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
DEFAULT_NAMESPACE = "default"


def directory(infra: Infra) -> Path:
    """The base directory, absolute (relative to infra.yml's directory when written relative)."""
    return Path(infra.project_dir) / settings.base(infra.data)


def kustomization_file(path: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        if (path / name).is_file():
            return path / name
    return None


def missing(infra: Infra) -> str | None:
    """Why kustomize could not build the base, or None when it is a directory with a kustomization."""
    path = directory(infra)
    if not path.is_dir():
        return "it is a file, not a directory" if path.exists() else \
            "there is no such directory (relative to infra.yml)"
    if kustomization_file(path) is None:
        return "it has no kustomization.yaml"
    return None


def _documents(path: Path) -> list[Any]:
    try:
        return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []    # kustomize reports what it cannot read; psot only misses what the file would have added


def _objects(root: Path, namespace: str | None, seen: set[Path]) -> Iterator[dict[str, Any]]:
    """The objects of the kustomization in `root`, with the namespace an enclosing kustomization sets."""
    real = root.resolve()
    kustomization = kustomization_file(root)
    if real in seen or kustomization is None:
        return
    seen.add(real)
    docs = _documents(kustomization)
    spec = docs[0] if docs and isinstance(docs[0], dict) else {}
    own = spec.get("namespace")
    namespace = str(own) if isinstance(own, str) else namespace
    for entry in [*(spec.get("resources") or []), *(spec.get("bases") or [])]:
        if not isinstance(entry, str) or "://" in entry or entry.startswith("git@"):
            continue
        path = root / entry
        if path.is_dir():
            yield from _objects(path, namespace, seen)
        elif path.is_file():
            for doc in _documents(path):
                if isinstance(doc, dict) and isinstance(doc.get("kind"), str):
                    if namespace is not None and doc.get("kind") != "Namespace":
                        doc = {**doc, "metadata": {**(doc.get("metadata") or {}), "namespace": namespace}}
                    yield doc


def objects(infra: Infra) -> list[dict[str, Any]]:
    """The objects the base declares (none when it cannot be built: rule K8S008 says why)."""
    return list(_objects(directory(infra), None, set()))


def namespaces(found: list[dict[str, Any]]) -> set[str]:
    """The namespaces the base creates (its Namespace objects)."""
    return {str((o.get("metadata") or {}).get("name")) for o in found if o.get("kind") == "Namespace"}


def pod_specs(found: list[dict[str, Any]]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    """(kind, namespace, name) -> the pod template spec of each Deployment, StatefulSet and DaemonSet."""
    out: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for o in found:
        if o.get("kind") not in WORKLOAD_KINDS:
            continue
        metadata = o.get("metadata") or {}
        pod = ((o.get("spec") or {}).get("template") or {}).get("spec")
        key = (str(o["kind"]), str(metadata.get("namespace") or DEFAULT_NAMESPACE), str(metadata.get("name")))
        out[key] = pod if isinstance(pod, dict) else {}
    return out



def relative_to_overlay(infra: Infra) -> str:
    """The base as the generated kustomization names it: relative to generated/kubernetes/.

    `global.kubernetes.base` is relative to infra.yml; so is the output directory the pipeline found
    (`--output-dir`, `global.output_dir` or generated/), wherever it is: both are made absolute from
    infra.yml's directory, so that an output directory outside the project (`..`) is resolved against the
    project, not against psot's working directory.
    """
    overlay = os.path.normpath(Path(infra.project_dir) / infra.output_dir / "kubernetes")
    return Path(os.path.relpath(os.path.normpath(directory(infra)), overlay)).as_posix()
