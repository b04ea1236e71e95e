"""The floor of a sync: what libyaml alone takes to read the input and write the output tree.

Run by the harness in a fresh interpreter, like `psot sync` itself:

    python -m bench.floor INFRA_YML GENERATED_DIR REPEAT SCRATCH_DIR

and prints one JSON object of best-of-REPEAT times in milliseconds, with
the interpreter's start-up and imports left out, the cyclic collector on
(as any caller gets it):

- `load_ms`: `yaml.load(INFRA_YML's bytes, Loader=CSafeLoader)`;
- `dump_ms`: the tree under GENERATED_DIR (psot's `.psot/` state aside)
  written again into a new directory under SCRATCH_DIR: every directory
  made, every YAML file opened and its data (read back untimed with
  CSafeLoader) dumped into it with `yaml.dump(data, fh, Dumper=CSafeDumper)`
  and psot's options (`sort_keys=False`, `default_flow_style=False`,
  `allow_unicode=True`, `width=4096`), every text file written as it is;
  no fsync (psot makes its tree durable; the floor does not);
- `dump_memory_ms`: the same dumps to strings, no file: the dumper alone;
- `create_ms`: the same files created and written with bytes already at
  hand (os.open, os.write, os.close): the filesystem's share of `dump_ms`;
- `load_nogc_ms`, `dump_nogc_ms`: load and dump with the collector paused
  (psot runs with it off), for comparison.

The trees it writes stay in SCRATCH_DIR: the harness removes them at the
end of its run. On this machine's ext4 (no journal) creating a file costs
more the more files were deleted in the last minutes (the kernel skips
inodes freed recently), so removing them here would slow the timed runs of
the next input.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
YAML_SUFFIXES = (".yml", ".yaml")
OPTIONS = {"Dumper": Dumper, "sort_keys": False, "default_flow_style": False, "allow_unicode": True, "width": 4096}

File = tuple[str, str, object, bytes]   # (relative path, "yaml" or "text", data or text, the bytes on disk)


def read_tree(root: Path) -> list[File]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not (Path(dirpath) == root and d == ".psot"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            raw = path.read_bytes()
            rel = path.relative_to(root).as_posix()
            if name.endswith(YAML_SUFFIXES) and not raw.count(b" !override"):
                files.append((rel, "yaml", yaml.load(raw, Loader=Loader), raw))
            else:   # text by nature, as psot writes it: the compose override (comments, Compose's !override)
                files.append((rel, "text", raw.decode("utf-8"), raw))
    return files


def load(path: Path) -> float:
    start = time.perf_counter()
    data = yaml.load(path.read_bytes(), Loader=Loader)
    elapsed = time.perf_counter() - start
    del data
    return elapsed


def _dirs(files: list[File]) -> list[str]:
    return sorted({os.path.dirname(rel) for rel, *_ in files} - {""})


def dump_to_files(files: list[File], target: Path) -> float:
    start = time.perf_counter()
    target.mkdir()
    for rel in _dirs(files):
        os.makedirs(target / rel, exist_ok=True)
    for rel, kind, content, _ in files:
        with open(target / rel, "w", encoding="utf-8") as fh:
            if kind == "yaml":
                yaml.dump(content, fh, **OPTIONS)
            else:
                fh.write(content)
    return time.perf_counter() - start


def dump_to_memory(files: list[File]) -> float:
    start = time.perf_counter()
    for _, kind, content, _ in files:
        if kind == "yaml":
            yaml.dump(content, **OPTIONS)
        else:
            content.encode("utf-8")
    return time.perf_counter() - start


def create(files: list[File], target: Path) -> float:
    start = time.perf_counter()
    target.mkdir()
    for rel in _dirs(files):
        os.makedirs(target / rel, exist_ok=True)
    for rel, _, _, raw in files:
        fd = os.open(target / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.write(fd, raw)
        os.close(fd)
    return time.perf_counter() - start


def best(fn, repeat: int, gc_on: bool = True) -> float:
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
    infra, tree_dir, repeat, scratch = Path(argv[0]), Path(argv[1]), int(argv[2]), Path(argv[3])
    files = read_tree(tree_dir)
    work = Path(tempfile.mkdtemp(prefix="floor-", dir=scratch))

    def fresh() -> Path:
        return Path(tempfile.mkdtemp(dir=work)) / "generated"
    result = {
        "load_ms": best(lambda: load(infra), repeat),
        "dump_ms": best(lambda: dump_to_files(files, fresh()), repeat),
        "dump_memory_ms": best(lambda: dump_to_memory(files), repeat),
        "create_ms": best(lambda: create(files, fresh()), repeat),
        "load_nogc_ms": best(lambda: load(infra), repeat, gc_on=False),
        "dump_nogc_ms": best(lambda: dump_to_files(files, fresh()), repeat, gc_on=False),
        "files": len(files),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
