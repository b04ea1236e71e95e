"""The floor of a sync: what libyaml alone takes to read the input and write the output.

Run by the harness in a fresh interpreter, like `psot sync` itself:

    python -m bench.floor INFRA_YML GENERATED_DIR REPEAT

and prints one JSON object of best-of-REPEAT times in milliseconds, with
the interpreter's start-up and imports left out:

- `load_ms`: `yaml.load(INFRA_YML's bytes, Loader=CSafeLoader)`, the
  garbage collector on, as any caller gets it;
- `dump_ms`: for every generated file under GENERATED_DIR (psot's state
  directory `.psot/` aside), a YAML file's data (read back untimed with
  CSafeLoader) dumped to a string with `yaml.dump(data, Dumper=CSafeDumper)`
  and the options psot writes with (`sort_keys=False`,
  `default_flow_style=False`, `allow_unicode=True`, `width=4096`); a text
  file's string encoded to bytes. Nothing is written to disk;
- `load_nogc_ms`, `dump_nogc_ms`: the same with the cyclic collector
  paused (`gc.disable()`), as psot's loader runs, for comparison.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
YAML_SUFFIXES = (".yml", ".yaml")


def read_tree(root: Path) -> list[tuple[str, object]]:
    """(kind, content) of every generated file: ("yaml", data) or ("text", str)."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".psot")
        for name in sorted(filenames):
            raw = (Path(dirpath) / name).read_bytes()
            if name.endswith(YAML_SUFFIXES):
                files.append(("yaml", yaml.load(raw, Loader=Loader)))
            else:
                files.append(("text", raw.decode("utf-8")))
    return files


def load(path: Path) -> float:
    start = time.perf_counter()
    data = yaml.load(path.read_bytes(), Loader=Loader)
    elapsed = time.perf_counter() - start
    del data
    return elapsed


def dump(files: list[tuple[str, object]]) -> float:
    start = time.perf_counter()
    for kind, content in files:
        if kind == "yaml":
            yaml.dump(content, Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                      width=4096)
        else:
            content.encode("utf-8")
    return time.perf_counter() - start


def best(fn, repeat: int, gc_on: bool) -> float:
    samples = []
    for _ in range(repeat):
        gc.collect()
        if not gc_on:
            gc.disable()
        try:
            samples.append(fn())
        finally:
            gc.enable()
    return min(samples) * 1000.0


def main(argv: list[str]) -> int:
    infra, tree_dir, repeat = Path(argv[0]), Path(argv[1]), int(argv[2])
    result = {"load_ms": best(lambda: load(infra), repeat, True),
              "load_nogc_ms": best(lambda: load(infra), repeat, False)}
    files = read_tree(tree_dir)
    result["dump_ms"] = best(lambda: dump(files), repeat, True)
    result["dump_nogc_ms"] = best(lambda: dump(files), repeat, False)
    result["files"] = len(files)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
