"""GPU modes (`modes:` in infra.yml): named alternatives of the base file, applied to the document.

A mode is a set of per-consumer overrides, and GPUs it takes as gone:

    global: {mode: gaming}              # the active mode; the base file alone when absent
    modes:
      ai:
        description: ...
        unavailable: [gtx-970]          # GPUs as `psot place --without` takes them: a name, or host/gpu
        consumers:
          win11-gaming: {enabled: false}             # as if infra.yml did not declare it
          ollama: {gpu: {pin: rtx-5070-ti}}          # a whole request replacing the base one
          plex: {budget: {gb: 2}}                    # the request's budget replaced

`apply(doc, name)` gives the document the mode describes, as if the user had written it: the
overridden nodes carry the positions of the mode's text, so a finding about a mode's request points
at the line of the mode that wrote it, and every rule sees the mode's infrastructure unchanged.

The interface (generator/pipeline.py, `psot switch` and the CLI rely on it):

- `mode_names(infra_or_doc)`: the names of the modes, in the order infra.yml writes them (() without
  `modes:`). Takes an `Infra`, a loaded `Document`, or the document's data mapping.
- `active_mode(infra_or_doc)`: `global.mode` as written (the mode the tree at the top of generated/ is
  compiled with), or None when it is absent (the base file alone).
- `select(doc, requested, diag)`: the mode a compilation applies: `requested` (`--mode`), else
  `global.mode`, else None; MODE001 when it names no mode.
- `check(doc, diag)`: MODE002 for a consumer a mode names that infra.yml does not declare, MODE003
  for an `unavailable` GPU that is not in the inventory (each with did-you-mean at file:line:col).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from generator.diagnostics.findings import Diagnostics
from generator.load.loader import Document, Path_
from generator.rules.base import did_you_mean

MODES = "modes"


def _data(infra_or_doc: Any) -> Mapping[str, Any]:
    """The document's data of an Infra or a Document (each has `.data`), or the mapping itself."""
    data = getattr(infra_or_doc, "data", infra_or_doc)
    return data if isinstance(data, Mapping) else {}


def _modes(data: Mapping[str, Any]) -> Mapping[str, Any]:
    modes = data.get(MODES)
    return modes if isinstance(modes, Mapping) else {}


def mode_names(infra_or_doc: Any) -> tuple[str, ...]:
    """The modes' names, in the order infra.yml writes them; () when it has no `modes:`."""
    return tuple(str(name) for name in _modes(_data(infra_or_doc)))


def active_mode(infra_or_doc: Any) -> str | None:
    """`global.mode` as written, or None: the base file alone is the active configuration."""
    glob = _data(infra_or_doc).get("global")
    mode = glob.get("mode") if isinstance(glob, Mapping) else None
    return mode if isinstance(mode, str) else None


def select(doc: Document, requested: str | None, diag: Diagnostics) -> str | None:
    """The mode to compile: `requested` (`--mode`), else `global.mode`, else None (the base file).

    A name that is no mode is MODE001 (at `global.mode`, or on the command line) and compiles the base.
    """
    names = mode_names(doc)
    name = requested if requested is not None else active_mode(doc)
    if name is None or name in names:
        return name
    choices = f" (modes: {', '.join(names)})" if names else " (infra.yml declares no `modes:`)"
    message = f"mode '{name}' is not defined under modes{did_you_mean(name, names)}{choices}"
    if requested is not None:
        diag.at_location("MODE001", "error", f"--mode {requested}: {message}", "<command line>", 1, 1, "--mode")
    else:
        diag.error("MODE001", message, ("global", "mode"))
    return None


def consumer_paths(data: Mapping[str, Any]) -> dict[str, Path_]:
    """Every name a mode may override -> where infra.yml declares it: a workload, or an Incus machine
    (the first one of that name, as the model keeps it)."""
    out: dict[str, Path_] = {}
    domains = data.get("domains")
    for domain_name, domain in (domains.items() if isinstance(domains, Mapping) else ()):
        machines = domain.get("machines") if isinstance(domain, Mapping) else None
        for machine_name in (machines if isinstance(machines, Mapping) else ()):
            out.setdefault(machine_name, ("domains", domain_name, "machines", machine_name))
    workloads = data.get("workloads")
    for name in (workloads if isinstance(workloads, Mapping) else ()):
        out.setdefault(name, ("workloads", name))
    return out


def _gpu_keys(data: Mapping[str, Any]) -> dict[str, str]:
    """Every `host/gpu` of the inventory -> its GPU name."""
    hosts = data.get("hosts")
    out = {}
    for host, spec in (hosts.items() if isinstance(hosts, Mapping) else ()):
        gpus = spec.get("gpus") if isinstance(spec, Mapping) else None
        for gpu in (gpus if isinstance(gpus, Mapping) else ()):
            out[f"{host}/{gpu}"] = gpu
    return out


def _resolve_gpu(name: str, keys: Mapping[str, str]) -> list[str]:
    """The `host/gpu` keys `name` can mean, as `--without` reads it: host/gpu, or a GPU name."""
    if "/" in name:
        return [name] if name in keys else []
    return [k for k, gpu in keys.items() if gpu == name]


def _overrides(data: Mapping[str, Any], mode: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    spec = _modes(data).get(mode)
    consumers = spec.get("consumers") if isinstance(spec, Mapping) else None
    for name, override in (consumers.items() if isinstance(consumers, Mapping) else ()):
        yield name, override if isinstance(override, Mapping) else {}


def _unavailable(data: Mapping[str, Any], mode: str) -> list[str]:
    spec = _modes(data).get(mode)
    listed = spec.get("unavailable") if isinstance(spec, Mapping) else None
    return [g for g in listed if isinstance(g, str)] if isinstance(listed, list) else []


def check(doc: Document, diag: Diagnostics) -> None:
    """MODE002 for each consumer a mode names that is not declared, MODE003 for each `unavailable` GPU
    that names no GPU of the inventory (or a name several hosts use)."""
    data = _data(doc)
    declared = consumer_paths(data)
    keys = _gpu_keys(data)
    for mode in mode_names(data):
        for name, _ in _overrides(data, mode):
            if name not in declared:
                diag.error("MODE002", f"mode '{mode}': consumer '{name}' is not declared in workloads or in a "
                           f"domain's machines{did_you_mean(name, declared)}",
                           (MODES, mode, "consumers", name), at="key")
        for index, gpu in enumerate(_unavailable(data, mode)):
            matches = _resolve_gpu(gpu, keys)
            if len(matches) > 1:
                diag.error("MODE003", f"mode '{mode}': unavailable GPU '{gpu}' is on several hosts; write "
                           f"host/gpu, one of: {', '.join(matches)}", (MODES, mode, "unavailable", index))
            elif not matches:
                listed = f" one of: {', '.join(sorted(keys))}" if keys else " the inventory has no GPU"
                diag.error("MODE003", f"mode '{mode}': unavailable GPU '{gpu}' is not in hosts"
                           f"{did_you_mean(gpu, sorted(set(keys.values()) | set(keys))) or ';'}{listed}",
                           (MODES, mode, "unavailable", index))


def _move_positions(doc: Document, source: Path_, target: Path_) -> None:
    """The positions under `target` become those under `source` (the mode's text that replaces it)."""
    for table in (doc.keys, doc.values):
        for path in [p for p in table if p[:len(target)] == target]:
            del table[path]
        for path, mark in [(p, m) for p, m in table.items() if p[:len(source)] == source]:
            table[target + path[len(source):]] = mark


def _node(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def apply(doc: Document, mode: str) -> Document:
    """The document `mode` describes, as if infra.yml had been written so (the input is not changed).

    `enabled: false` removes the consumer; `gpu` replaces its whole request; `budget` replaces the
    request's `budget` (a `gpu: true` or absent request becomes `{budget: ...}`); each GPU of
    `unavailable` gets `status: unavailable`. Names `check` refuses are left alone.
    """
    data = copy.deepcopy(doc.data)
    out = Document(data, doc.files, dict(doc.keys), dict(doc.values))
    declared = consumer_paths(data)
    base = (MODES, mode)
    for name, override in _overrides(data, mode):
        path = declared.get(name)
        if path is None:
            continue
        written = base + ("consumers", name)
        if override.get("enabled") is False:
            del _node(data, path[:-1])[path[-1]]
            continue
        parent = _node(data, path[:-1])
        if not isinstance(parent[path[-1]], dict):
            parent[path[-1]] = {}   # a machine written `name:` with nothing under it
        spec = parent[path[-1]]
        if "gpu" in override:
            spec["gpu"] = copy.deepcopy(override["gpu"])
            _move_positions(out, written + ("gpu",), path + ("gpu",))
        if "budget" in override:
            request = spec.get("gpu")
            spec["gpu"] = dict(request) if isinstance(request, Mapping) else {}
            spec["gpu"]["budget"] = copy.deepcopy(override["budget"])
            _move_positions(out, written + ("budget",), path + ("gpu", "budget"))
    keys = _gpu_keys(data)
    for index, gpu in enumerate(_unavailable(data, mode)):
        matches = _resolve_gpu(gpu, keys)
        if len(matches) == 1:
            host, name = matches[0].split("/", 1)
            where = ("hosts", host, "gpus", name, "status")
            data["hosts"][host]["gpus"][name]["status"] = "unavailable"
            out.values[where] = doc.values.get(base + ("unavailable", index), doc.locate(base))
    return out
