"""YAML engines other than libyaml, measured on psot's own input and output (issue 21, bench/README.md).

    python -m bench.yaml_engines INFRA_YML GENERATED_DIR [REPEAT]

For each engine importable here (PyYAML with libyaml always; rapidyaml, yaml-rs, pyyaml-rs, ryaml and
fastyaml-rs when installed, none of them a psot dependency): best-of-REPEAT milliseconds to parse
INFRA_YML into Python data and whether that data equals CSafeLoader's; milliseconds to emit every YAML
file of GENERATED_DIR (its data read back with CSafeLoader) and how many come out byte-identical to
psot's writer (serialize.reference_dump_yaml, the CSafeDumper path); whether a duplicate key is an error;
and which keys of a probe of YAML 1.1 scalars (`on`, `yes`, `017`, `1_000`, `1:20`, dates, `<<` merges...)
it reads differently from PyYAML's safe loader. The collector is off while timing, as in psot.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from generator import serialize
from generator.diagnostics.findings import Diagnostics
from generator.load import loader

PROBE = ("a: on\nb: yes\nc: 08\nd: 0o17\ne: 017\nf: 1_000\ng: 2024-01-01\nh: 1e3\ni: .5\nj: ~\nk: 0x1F\n"
         "l: 1:20\nm: &x {p: 1}\nn: {<<: *x, q: 2}\no: y\n")
DUPLICATE = "a: 1\na: 2\n"
OPTIONS: dict[str, Any] = {"sort_keys": False, "default_flow_style": False, "allow_unicode": True, "width": 4096}
Engine = tuple[str, Callable[[str], Any] | None, Callable[[Any], str] | None]


def engines(infra: Path) -> list[Engine]:
    """(name, parse, emit) of every engine importable here; None where it has no such call for Python data.
    psot's row is its whole loader (positions of every node, duplicate keys refused) on the file `infra`."""
    found: list[Engine] = [
        ("PyYAML CSafeLoader / CSafeDumper", lambda t: yaml.load(t, Loader=yaml.CSafeLoader),
         lambda d: yaml.dump(d, Dumper=yaml.CSafeDumper, **OPTIONS)),
        ("psot (load.loader.load / serialize.dump_yaml)", lambda t: _psot_load(infra, t), serialize.dump_yaml)]
    modules = {name: _module(name) for name in ("ryml", "yaml_rs", "pyyaml_rs", "ryaml", "fast_yaml")}
    if modules["ryml"]:   # rapidyaml: a C++ tree of strings; no Python data without a walk of one's own
        found.append(("rapidyaml (C++ tree only)", lambda t: modules["ryml"].parse_in_arena(t.encode()), None))
    if modules["yaml_rs"]:
        found.append(("yaml-rs", modules["yaml_rs"].loads, modules["yaml_rs"].dumps))
    if modules["pyyaml_rs"]:   # its safe_dump takes no option at all
        found.append(("pyyaml-rs", modules["pyyaml_rs"].safe_load, modules["pyyaml_rs"].safe_dump))
    if modules["ryaml"]:
        found.append(("ryaml", modules["ryaml"].loads, modules["ryaml"].dumps))
    if modules["fast_yaml"]:   # its width is at most 1000
        found.append(("fastyaml-rs", modules["fast_yaml"].safe_load,
                      lambda d: modules["fast_yaml"].safe_dump(d, **{**OPTIONS, "width": 1000})))
    return found


def _psot_load(infra: Path, text: str) -> Any:
    """psot's loader on `infra` when `text` is its text, else on a copy of `text` beside it (the probes)."""
    path = infra
    if text != infra.read_text(encoding="utf-8"):
        path = infra.with_name(".yaml-engines-probe.yml")
        path.write_text(text, encoding="utf-8")
    diag = Diagnostics()
    try:
        doc = loader.load(path, diag)
    finally:
        if path != infra:
            path.unlink()
    if any(f.severity == "error" for f in diag.findings):
        raise ValueError(diag.findings[0].message)
    return doc.data if doc is not None else None


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def best_ms(fn: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(samples) * 1000.0


def yaml_tree(root: Path) -> list[Any]:
    """The data of every YAML file under `root` but the compose override (Compose's tags), in path order."""
    files = sorted(Path(d) / f for d, _, names in os.walk(root) for f in names if f.endswith((".yml", ".yaml"))
                   and ".psot" not in Path(d).relative_to(root).parts)
    return [yaml.load(raw, Loader=yaml.CSafeLoader) for raw in (p.read_bytes() for p in files)
            if b"!override" not in raw]


def _attempt(fn: Callable[[], Any]) -> tuple[Any, str | None]:
    try:
        return fn(), None
    except Exception as exc:   # an engine's own error type: reported as the row's result
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:60]}"


def rows(infra: Path, tree: Path, repeat: int) -> list[list[str]]:
    text = infra.read_text(encoding="utf-8")
    expected = yaml.load(text, Loader=yaml.CSafeLoader)
    docs = yaml_tree(tree)
    written = [serialize.reference_dump_yaml(d) for d in docs]
    return [[name, *parse_cells(name, parse, text, expected, repeat), *emit_cells(emit, docs, written, repeat),
             *reading_cells(name, parse)] for name, parse, emit in engines(infra)]


def parse_cells(name: str, parse: Callable[[str], Any] | None, text: str, expected: Any, repeat: int) -> list[str]:
    if parse is None:
        return ["-", "-"]
    data, error = _attempt(lambda: parse(text))
    if error:
        return [error, "-"]
    ms = best_ms(lambda: parse(text), repeat)
    return [f"{ms:,.0f}", "-" if name.startswith("rapidyaml") else "yes" if data == expected else "no"]


def emit_cells(emit: Callable[[Any], str] | None, docs: list[Any], written: list[str], repeat: int) -> list[str]:
    if emit is None:
        return ["-", "-"]
    texts, error = _attempt(lambda: [emit(d) for d in docs])
    if error:
        return [error, "-"]
    ms = best_ms(lambda: [emit(d) for d in docs], repeat)
    return [f"{ms:,.0f}", f"{sum(a == b for a, b in zip(texts, written))}/{len(docs)}"]


def reading_cells(name: str, parse: Callable[[str], Any] | None) -> list[str]:
    """Whether a duplicate key is an error, and the keys of PROBE read otherwise than PyYAML's safe loader."""
    if parse is None or name.startswith("rapidyaml"):
        return ["-", "-"]
    probe = yaml.load(PROBE, Loader=yaml.CSafeLoader)
    kept, error = _attempt(lambda: parse(DUPLICATE))
    got, probe_error = _attempt(lambda: parse(PROBE))
    differs = probe_error or " ".join(f"{k}={got.get(k)!r}" for k in probe if got.get(k) != probe[k])
    return ["error" if error else "last wins" if kept == {"a": 2} else "first wins", differs or "none"]


HEADER = ["engine", "parse ms", "same data", "emit ms", "byte-identical files", "duplicate key",
          "YAML 1.1 probe read differently"]


def main(argv: list[str]) -> int:
    infra, tree = Path(argv[0]), Path(argv[1])
    repeat = int(argv[2]) if len(argv) > 2 else 3
    body = rows(infra, tree, repeat)
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for row in body:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
