"""Benchmark harness: time every pipeline stage of psot on synthetic inputs.

Run from the repository root:

    .venv/bin/python -m bench                      # default sizes (what `make bench` runs)
    .venv/bin/python -m bench --sizes small        # a few seconds; what the smoke test runs
    .venv/bin/python -m bench --markdown           # also print the table as Markdown
    .venv/bin/python -m bench --profile            # also cProfile one end-to-end run of the slowest input
    .venv/bin/python -m bench --no-quality         # skip the balanced-quality table
    .venv/bin/python -m bench --quality 14x4:20    # other quality shapes: items x GPUs : instances
    .venv/bin/python -m bench --scaling            # sync of 8 000 to 32 000 machines: time, memory per machine

What it does:

1. Generates synthetic infra.yml files with a fixed random seed into the
   output directory (`bench/out/` by default, git-ignored): AnKLuMe-style
   files (D domains x M machines, a few GPUs on an Incus host) and compose
   inventories (W compose workloads over G GPUs on docker hosts of 8 GPUs).
   Each one is compiled once first and must give no error.
2. Times each stage of SPEC §1 in-process with `time.perf_counter`, best of
   `--repeat` runs: the stages of generator/pipeline.py, called by name from
   its STAGES, each on the result of the one before (load, validate: JSON
   Schema + typed model, place, render), then write (plan + write into a
   fresh empty directory), resync (plan + write against the tree just
   written, which must write nothing), and end to end (compile_infra + plan
   + write into a fresh directory).
3. Prints one row per input, one column per stage, in milliseconds.
4. Placement per strategy: on every compose input, times
   `placement.place(infra, Diagnostics(), strategy)` alone (no rules) for
   each strategy of STRATEGY_NAMES, best of `--repeat`; `manual` runs on a
   copy of the input where every workload is pinned (`gpu.pin`) to the GPU
   vram_based gave it, since manual places pins only. Reports what each
   placement achieves (over-capacity GPUs, variance of utilisation) and, for
   balanced, the method/variance/lower bound/gap of `placement.balance`.
5. Balanced quality: random small instances (fixed seed) solved by
   `balance.solve` (exact branch and bound) and by `balance.heuristic`
   alone; on the shapes small enough to enumerate, the exact answer is
   checked against a brute-force optimum. Any mismatch makes the harness
   exit with status 1.

This is a developer tool, not part of the psot CLI, hence argparse.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import gc
import io
import math
import platform
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import fmean
from typing import Any

import yaml

from bench import targets
from generator import pipeline
from generator.diagnostics.findings import Diagnostics, render_text
from generator.load import loader
from generator.model import core as model
from generator.pipeline import compile_infra
from generator.placement import balance
from generator.placement.core import STRATEGY_NAMES, Placement, place
from generator.plan.changes import make_plan
from generator.workspace.writer import write

SEED = 20240601
# Share of compose workloads with `gpu.latency_critical: true` / `gpu.isolate: true`, drawn from a
# separate random stream so the rest of each input stays the same bytes as before they existed.
LATENCY_CRITICAL_SHARE = 0.05
ISOLATE_SHARE = 0.02
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "out"

# The YAML dumper that writes the synthetic inputs; psot's own loader is
# generator.load.loader.SafeLoader (libyaml's CSafeLoader when PyYAML has it).
INPUT_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# The pipeline's stages (generator/pipeline.py, by name), then what the harness times after them.
STAGES = (*pipeline.STAGES, "write", "resync", "e2e")
STAGE_HELP = {
    "load": "pipeline.load: read + parse YAML, record line/column of every node, find the output directory",
    "validate": "pipeline.validate: JSON Schema + model.build (typed model) + the model-stage rules",
    "place": "pipeline.place: placement.place (vram_based) + the rules that judge the placement",
    "render": "pipeline.render: the in-memory tree {path: bytes}",
    "write": "plan.make_plan + writer.write into a fresh, empty directory (first full write)",
    "resync": "plan.make_plan + writer.write against the tree just written (writes nothing)",
    "e2e": "pipeline.compile_infra + make_plan + write into a fresh directory",
}


# --------------------------------------------------------------------------
# Synthetic inputs
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """One synthetic input: `kind` is anklume (a, b = domains, machines) or compose (a, b = workloads, GPUs)."""

    kind: str
    a: int
    b: int

    @property
    def name(self) -> str:
        if self.kind == "anklume":
            return f"anklume-{self.a}x{self.b}"
        return f"compose-{self.a}w-{self.b}g"


SMALL = (Spec("anklume", 10, 10), Spec("compose", 100, 10))
DEFAULT = (
    Spec("anklume", 10, 10), Spec("anklume", 50, 40), Spec("anklume", 200, 40),
    Spec("compose", 100, 10), Spec("compose", 1_000, 100), Spec("compose", 10_000, 1_000),
)
LARGE = DEFAULT + (Spec("anklume", 200, 150), Spec("compose", 30_000, 3_000))
SIZES = {"small": SMALL, "default": DEFAULT, "large": LARGE}
# Placement alone at scale (issue 21 item 1: "100 000 workloads do not crash"): Kubernetes workloads without
# `host` over nodes of 8 GPUs, every strategy timed once on the typed model (too big for the loader, whose
# LOAD008 limit of 1 000 000 YAML nodes it passes, so it is built from the document with model.build).
HOSTLESS = {"small": (), "default": (), "large": ((100_000, 1_000),)}

# The inputs of the speed targets (bench/targets.py, issue 8): in each family, every size
# is compared per machine with the one before it.
SPEED_INPUTS = {
    "small": SMALL,
    "default": (Spec("anklume", 50, 40), Spec("anklume", 200, 40),
                Spec("compose", 1_000, 100), Spec("compose", 10_000, 1_000)),
    "large": (Spec("anklume", 50, 40), Spec("anklume", 200, 40), Spec("anklume", 200, 150),
              Spec("compose", 1_000, 100), Spec("compose", 10_000, 1_000), Spec("compose", 30_000, 3_000)),
}

# Issue 21's scaling to 32 000 machines (bench/targets.py, bench_scaling): AnKLuMe inputs of 8 000, 16 000 and
# 32 000 machines, each against the one before; with --sizes large, or alone with --scaling.
SCALING = (Spec("anklume", 200, 40), Spec("anklume", 400, 40), Spec("anklume", 800, 40))

# Balanced-quality shapes per size: (items, GPUs, instances).
QUALITY_SHAPES = {
    "small": ((6, 2, 20),),
    "default": ((6, 2, 200), (8, 3, 200), (10, 4, 200), (12, 4, 200)),
    "large": ((6, 2, 200), (8, 3, 200), (10, 4, 200), (12, 4, 200)),
}
# An instance is checked against brute force when it has at most this many assignments (GPUs ** items).
BRUTE_FORCE_MAX = 10_000

_NVIDIA = (  # model, vram_gb, architecture, compute capability, tdp
    ("RTX A5500", 24, "ampere", "8.6", 230),
    ("RTX A400", 4, "ampere", "8.6", 50),
    ("GeForce RTX 5070 Ti", 16, "blackwell", "12.0", 285),
    ("L40S", 48, "ada", "8.9", 350),
    ("A100 80GB", 80, "ampere", "8.0", 300),
    ("H100", 80, "hopper", "9.0", 700),
)
_AMD = (("Radeon PRO W7900", 48, "rdna3", 295), ("Instinct MI210", 64, "cdna2", 300))
_INTEL = (("Arc Pro A60", 12, "alchemist", 130), ("Data Center GPU Flex 170", 16, "alchemist", 150))
_MODELS = (  # name, vram_gb, relative weight
    ("YOLO26", 0.65, 6), ("CLIP ViT-L", 1.2, 6), ("Florence-2-Large", 1.5, 5), ("whisper-large-v3", 3.0, 3),
    ("Model Zoo", 6.8, 2), ("llama3.1-8b-q8", 9.5, 2), ("Nemotron-3-Nano-30B", 21.7, 1),
)
_ROLES = ("base_system", "dev_tools", "ollama_server", "stt_server", "monitoring", "backup_agent", "web_proxy")
_TRUST = ("admin", "trusted", "semi-trusted", "untrusted", "disposable")


def _gpu(rng: random.Random, index: int, vendor: str) -> dict[str, Any]:
    bus = f"0000:{index + 1:02x}:00.0"
    if vendor == "nvidia":
        name, vram, arch, cc, tdp = rng.choice(_NVIDIA)
        return {"vendor": "nvidia", "model": name, "vram_gb": vram, "index": index, "pci": bus,
                "architecture": arch, "compute_capability": cc, "driver": "575.64.03", "tdp_watts": tdp}
    name, vram, arch, tdp = rng.choice(_AMD if vendor == "amd" else _INTEL)
    return {"vendor": vendor, "model": name, "vram_gb": vram, "index": index, "pci": bus,
            "architecture": arch, "tdp_watts": tdp}


def anklume_doc(domains: int, machines: int, rng: random.Random) -> dict[str, Any]:
    """An AnKLuMe infra.yml: D domains x M machines, ~5% with GPU access, plus an Incus GPU inventory."""
    doc: dict[str, Any] = {
        "project_name": f"bench-anklume-{domains}x{machines}",
        "global": {
            "base_subnet": "10.100",
            "default_os_image": "images:debian/13",
            "default_connection": "community.general.incus",
            "default_user": "root",
            "gpu_policy": "shared",
            "placement": {"strategy": "vram_based", "headroom_gb": 0.5},
        },
        "domains": {},
    }
    for d in range(domains):
        dname = f"dom-{d:03d}"
        domain: dict[str, Any] = {
            "description": f"Synthetic domain {d}",
            "trust_level": rng.choice(_TRUST),
            "ephemeral": rng.random() < 0.3,
            "profiles": {
                "nvidia-compute": {
                    "description": "NVIDIA GPU access",
                    "devices": {"gpu": {"type": "gpu", "gputype": "physical"}},
                    "config": {"nvidia.runtime": "true"},
                },
                "limits-small": {"config": {"limits.cpu": "2", "limits.memory": "4GiB"}},
            },
            "machines": {},
        }
        if d < 255:
            domain["subnet_id"] = d
        for m in range(machines):
            machine: dict[str, Any] = {
                "description": f"Synthetic machine {m} of {dname}",
                "type": "vm" if rng.random() < 0.2 else "lxc",
                "config": {"limits.cpu": str(rng.choice((1, 2, 4, 8))),
                           "limits.memory": f"{rng.choice((1, 2, 4, 8, 16))}GiB"},
                "roles": ["base_system"] + rng.sample(_ROLES[1:], rng.randint(0, 3)),
                "profiles": ["default"] if rng.random() < 0.7 else ["default", "limits-small"],
            }
            if d < 255 and m < 244:
                machine["ip"] = f"10.100.{d}.{m + 10}"
            if rng.random() < 0.05:
                # GPU machines are containers: a GPU VM defaults to passthrough (a whole GPU each).
                machine["type"] = "lxc"
                machine["profiles"] = ["default", "nvidia-compute"]
                machine["gpu"] = True if rng.random() < 0.75 else {"vram_gb": rng.choice((0.5, 1, 2, 4))}
            domain["machines"][f"d{d:03d}-m{m:03d}"] = machine
        doc["domains"][dname] = domain
    # A few GPUs per Incus host; one more host per 2 500 machines.
    hosts = max(1, domains * machines // 2_500)
    doc["hosts"] = {
        f"incus-{h:02d}": {"platform": "incus", "iommu": True, "psu_watts": 2000,
                           "gpus": {f"gpu-{i}": _gpu(rng, i, "nvidia") for i in range(4)}}
        for h in range(hosts)
    }
    return doc


def compose_doc(workloads: int, gpus: int, rng: random.Random) -> dict[str, Any]:
    """W compose workloads over G GPUs on docker hosts of 8 GPUs each (mostly NVIDIA, some AMD/Intel)."""
    host_names = [f"gpu-host-{h:03d}" for h in range((gpus + 7) // 8)]
    hosts: dict[str, Any] = {}
    gpu_hosts = []  # the host of every GPU, so workloads spread evenly over GPUs
    for h, host in enumerate(host_names):
        count = min(8, gpus - 8 * h)
        gpu_map = {}
        for i in range(count):
            vendor = rng.choices(("nvidia", "amd", "intel"), weights=(8, 1, 1))[0]
            gpu_map[f"gpu-{i}"] = _gpu(rng, i, vendor)
            gpu_hosts.append(host)
        hosts[host] = {"platform": "docker", "psu_watts": 3000, "gpus": gpu_map}
    models = [m[:2] for m in _MODELS]
    weights = [m[2] for m in _MODELS]
    flags = random.Random(f"{SEED}:flags:{workloads}w-{gpus}g")
    section: dict[str, Any] = {}
    for w in range(workloads):
        name, vram = rng.choices(models, weights=weights)[0]
        spec: dict[str, Any] = {
            "target": "compose",
            "host": gpu_hosts[w % len(gpu_hosts)],
            "model": {"name": name, "vram_gb": vram},
        }
        if rng.random() < 0.2:
            spec["gpu"] = {"budget": {"env": "VRAM_BUDGET_GB", "gb": round(vram * rng.uniform(1.0, 1.5), 1)}}
        if rng.random() < 0.1:
            spec["environment"] = {"LOG_LEVEL": "info", "WORKERS": rng.randint(1, 8)}
        draw = flags.random()
        if draw < LATENCY_CRITICAL_SHARE:
            spec.setdefault("gpu", {})["latency_critical"] = True
        elif draw < LATENCY_CRITICAL_SHARE + ISOLATE_SHARE:
            spec.setdefault("gpu", {})["isolate"] = True
        section[f"svc-{w:05d}"] = spec
    return {
        "project_name": f"bench-compose-{workloads}w-{gpus}g",
        "global": {"gpu_policy": "shared", "placement": {"strategy": "vram_based", "headroom_gb": 0.5}},
        "domains": {},
        "hosts": hosts,
        "workloads": section,
    }


def hostless_doc(workloads: int, gpus: int) -> dict[str, Any]:
    """W Kubernetes workloads without `host` over G NVIDIA GPUs on nodes of 8, requests of 0.65 to 9.5 GB."""
    rng = random.Random(f"{SEED}:hostless:{workloads}w-{gpus}g")
    hosts = {f"node-{h:03d}": {"platform": "kubernetes", "gpus": {
        f"gpu-{i}": {"vendor": "nvidia", "vram_gb": 80, "index": i} for i in range(min(8, gpus - 8 * h))}}
        for h in range((gpus + 7) // 8)}
    models = [m[:2] for m in _MODELS if m[1] < 10]
    # Sized so the whole load is about 80% of the VRAM: everything fits, and spreading it matters.
    scale = 0.8 * 79.5 * gpus / workloads / fmean(v for _, v in models)
    section = {f"w{w:06d}": {"target": "kubernetes", "model": {"name": name, "vram_gb": round(vram * scale, 2)}}
               for w, (name, vram) in enumerate(rng.choice(models) for _ in range(workloads))}
    return {"project_name": f"bench-hostless-{workloads}w-{gpus}g",
            "global": {"gpu_policy": "shared", "placement": {"strategy": "vram_based", "headroom_gb": 0.5}},
            "domains": {}, "hosts": hosts, "workloads": section}


def generate(spec: Spec, out: Path) -> Path:
    """Write the input of `spec` under `out`; the same bytes on every run (fixed seed)."""
    rng = random.Random(f"{SEED}:{spec.name}")
    data = anklume_doc(spec.a, spec.b, rng) if spec.kind == "anklume" else compose_doc(spec.a, spec.b, rng)
    path = out / spec.name / "infra.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(data, Dumper=INPUT_DUMPER, sort_keys=False, default_flow_style=False, width=4096)
    path.write_text(f"# Synthetic psot benchmark input {spec.name} (seed {SEED}); regenerated by python -m bench.\n"
                    + text, encoding="utf-8")
    return path


def check_compiles(path: Path, out_dir: Path) -> tuple[int, int, int]:
    """Compile once (untimed); exit with the findings when there is an error. Returns (consumers, GPUs, findings)."""
    result = compile_infra(path, output_dir=out_dir)
    if not result.ok or result.tree is None:
        sys.stderr.write(render_text(result.diag.findings))
        raise SystemExit(f"bench: the synthetic input {path} does not compile (findings above); "
                         "this is a bug in the harness or in generator/")
    infra = result.need_infra()
    return len(infra.consumers), len(infra.gpus), len(result.diag.findings)


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    bytes: int = 0
    consumers: int = 0
    gpus: int = 0
    files: int = 0
    findings: int = 0
    ms: dict[str, float] = field(default_factory=dict)
    placements: list[PlaceRow] = field(default_factory=list)


@dataclass
class PlaceRow:
    """One strategy on one input: best time of `place` alone, and what the placement achieves."""

    input: str
    strategy: str
    ms: float
    placed: int
    unplaced: int
    warnings: int
    over: int                      # GPUs whose used VRAM passes their usable VRAM (vram_gb - headroom_gb)
    util_variance: float           # variance of used / usable over the GPUs, computed by the harness
    report: Any = None             # Placement.balance (balanced only)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds of one call, with the cyclic collector off during it, as the psot command runs."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        value = fn()
        return time.perf_counter() - start, value
    finally:
        gc.enable()


def _best(stage: str, row: Row, samples: list[float]) -> None:
    row.ms[stage] = min(samples) * 1000.0


def _fresh_dir(scratch: Path) -> Path:
    """A directory that does not exist yet, inside a new empty temporary directory."""
    return Path(tempfile.mkdtemp(prefix="gen-", dir=scratch)) / "generated"


def _stage_input(name: str, path: Path, target: Path, before: pipeline.Result | None) -> tuple:
    """The arguments one timed run of the pipeline stage `name` is given, made untimed."""
    if name == "load":
        return (path, target)
    if name == "validate":
        # Loaded again for every run: validate changes the document it checks (the schema drops the unknown
        # keys it ignores), and only one document is alive at a time, so the heap the collector walks stays
        # the same.
        return (pipeline.load(path, target),)
    assert before is not None
    # The result of the stage before with findings of its own: the stages of one run add theirs to it.
    return (replace(before, diag=Diagnostics(before.diag.document, before.diag.default_file)),)


def bench_input(spec: Spec, out: Path, repeat: int) -> Row:
    path = generate(spec, out)
    scratch = out / spec.name / "scratch"   # removed at the end of the run (see remove_scratch)
    scratch.mkdir(exist_ok=True)
    row = Row(spec.name, bytes=path.stat().st_size)
    row.consumers, row.gpus, row.findings = check_compiles(path, _fresh_dir(scratch))

    # The stages of the pipeline, by name and in its order, each timed on the result of the one before.
    target = _fresh_dir(scratch)   # no placement.yml there: placement starts from nothing, as a first sync does
    before: pipeline.Result | None = None
    for name, stage in pipeline.STAGES.items():
        samples = []
        result = None
        for _ in range(repeat):
            result = None   # only one result of the stage alive at a time
            args = _stage_input(name, path, target, before)
            t, result = _timed(lambda stage=stage, args=args: stage(*args))
            samples.append(t)
            assert not isinstance(result, pipeline.Stopped) and result.ok, render_text(result.diag.findings)
        _best(name, row, samples)
        before = None if name == "load" else result   # validate loads again (see _stage_input)
    assert isinstance(before, pipeline.Rendered)
    if spec.kind == "compose":
        row.placements = bench_strategies(spec.name, before.infra, repeat)
    tree = before.tree
    row.files = len(tree)

    write_samples, resync_samples = [], []
    for _ in range(repeat):
        target = _fresh_dir(scratch)
        t, written = _timed(lambda target=target: write(make_plan(tree, target), tree))
        assert len(written) == len(tree), f"first write wrote {len(written)} of {len(tree)} files"
        write_samples.append(t)
        t, written = _timed(lambda target=target: write(make_plan(tree, target), tree))
        assert written == [], f"resync against an up-to-date tree wrote {written[:5]}"
        resync_samples.append(t)
    _best("write", row, write_samples)
    _best("resync", row, resync_samples)

    samples = []
    for _ in range(repeat):
        target = _fresh_dir(scratch)
        t, _ = _timed(lambda target=target: end_to_end(path, target))
        samples.append(t)
    _best("e2e", row, samples)
    return row


def remove_scratch(out: Path, specs) -> None:
    """The trees the run wrote, removed together at its end: on an ext4 without a journal,
    creating files is slower for minutes after many were deleted (bench/floor.py)."""
    for spec in specs:
        for name in ("scratch", "scratch-sync", "scratch-anklume"):
            shutil.rmtree(out / spec.name / name, ignore_errors=True)


def _usable(infra: Any) -> dict[str, float]:
    """Usable VRAM of every GPU that can take a consumer: its VRAM less the headroom (as placement counts)."""
    return {k: max(g.vram_gb - infra.headroom_gb, 0.0) for k, g in infra.gpus.items()
            if g.status != "unavailable" and g.vram_gb - infra.headroom_gb > 0}


def judge(name: str, strategy: str, ms: float, infra: Any, placed: Placement, warnings: int) -> PlaceRow:
    usable = _usable(infra)
    keys = [k for k in usable if k in placed.gpus]
    load = [placed.gpus[k].used_gb for k in keys]
    capacity = [usable[k] for k in keys]
    over = sum(1 for u, c in zip(load, capacity) if u > c + 1e-9)
    done = sum(1 for a in placed.assignments.values() if a.gpus)
    return PlaceRow(name, strategy, ms, done, len(placed.unplaced), warnings, over,
                    balance.variance(load, capacity), placed.balance)


def pinned_copy(infra: Any, placed: Placement) -> Any:
    """The same input with every placed workload pinned (`gpu.pin: host/gpu`) where `placed` put it."""
    data = copy.deepcopy(infra.data)
    for name, assignment in placed.assignments.items():
        spec = data["workloads"][name]
        if not assignment.gpus:
            continue
        gpu = spec.get("gpu")
        spec["gpu"] = {**(gpu if isinstance(gpu, dict) else {}), "pin": assignment.gpus[0]}
    return model.build(data)


def bench_strategies(name: str, infra: Any, repeat: int) -> list[PlaceRow]:
    """Best-of-`repeat` time of `place(infra, Diagnostics(), strategy)` for every strategy (no rules)."""
    out = []
    pinned = None
    for strategy in STRATEGY_NAMES:
        subject = infra
        if strategy == "manual":
            # manual places pins only: give it an input where every workload is pinned
            # to vram_based's GPU, so it has something to place.
            pinned = pinned_copy(infra, place(infra, Diagnostics(), "vram_based"))
            subject = pinned
        samples = []
        placed = None
        diag = Diagnostics()
        for _ in range(repeat):
            placed = None
            diag = Diagnostics()
            t, placed = _timed(lambda subject=subject, diag=diag, strategy=strategy: place(subject, diag, strategy))
            samples.append(t)
        if placed is None or diag.has_errors:
            sys.stderr.write(render_text(diag.findings))
            raise SystemExit(f"bench: strategy {strategy} fails on {name} (findings above)")
        out.append(judge(name, strategy, min(samples) * 1000.0, subject, placed, len(diag.findings)))
        print(f"    {name} {strategy}: {out[-1].ms:,.1f} ms", file=sys.stderr, flush=True)
    del pinned
    return out


# --------------------------------------------------------------------------
# Balanced quality: exact against heuristic against brute force
# --------------------------------------------------------------------------

_CAPACITIES = (4, 12, 16, 24, 48, 64, 80)   # GPU VRAM in GB, as in the synthetic inventories
QUALITY_HEADROOM = 0.5


Instance = tuple[list[balance.Item], list[float], list[float]]   # items, load0, capacity


def random_instance(rng: random.Random, n_items: int, n_gpus: int) -> Instance:
    """GPUs of the inventories' sizes (less 0.5 GB headroom), a quarter of them with some pinned load;
    items of the models' sizes, a quarter eligible on a random subset of GPUs only, a fifth with a
    budget (their charge shrinks to a GPU's usable VRAM when larger, as placement charges it)."""
    capacity = [rng.choice(_CAPACITIES) - QUALITY_HEADROOM for _ in range(n_gpus)]
    load0 = [round(rng.uniform(0.0, 0.3) * c, 2) if rng.random() < 0.25 else 0.0 for c in capacity]
    models = [m[1] for m in _MODELS]
    weights = [m[2] for m in _MODELS]
    items = []
    for _ in range(n_items):
        vram = rng.choices(models, weights=weights)[0]
        gpus = list(range(n_gpus))
        if n_gpus > 1 and rng.random() < 0.25:
            gpus = sorted(rng.sample(gpus, rng.randint(1, n_gpus - 1)))
        budgeted = rng.random() < 0.2
        charge = tuple(min(vram, capacity[g]) if budgeted else vram for g in gpus)
        items.append(balance.Item(tuple(gpus), charge))
    return items, load0, capacity


def _loads(items: list[balance.Item], choice: Any, load0: list[float]) -> list[float] | None:
    """The loads of an assignment; None when an item is unplaced or placed on a GPU it may not use."""
    load = list(load0)
    for item, g in zip(items, choice):
        if g is None or g not in item.options:
            return None
        load[g] += item.charge[item.options.index(g)]
    return load


def _within(load: list[float], capacity: list[float]) -> bool:
    return all(u <= c + balance.EPS for u, c in zip(load, capacity))


def brute_force(items: list[balance.Item], load0: list[float], capacity: list[float]) -> float:
    """The least variance over every assignment within capacity (inf when none is)."""
    best = float("inf")
    load = list(load0)

    def walk(i: int) -> None:
        nonlocal best
        if i == len(items):
            best = min(best, balance.variance(load, capacity))
            return
        for g, w in zip(items[i].options, items[i].charge):
            if load[g] + w > capacity[g] + balance.EPS:
                continue
            load[g] += w
            walk(i + 1)
            load[g] -= w

    walk(0)
    return best


@dataclass
class QualityRow:
    shape: str
    instances: int
    feasible: int = 0              # instances where the exact solve found an assignment within capacity
    proven: int = 0                # Result.exact: the branch and bound finished within its node budget
    exact_ms: list[float] = field(default_factory=list)
    heuristic_ms: list[float] = field(default_factory=list)
    h_optimal: int = 0             # heuristic alone within capacity and as good as the exact answer
    h_infeasible: int = 0          # heuristic alone over capacity where the exact answer is not
    gaps: list[float] = field(default_factory=list)       # heuristic - exact variance, feasible instances
    rel_gaps: list[float] = field(default_factory=list)   # the same / heuristic variance (as MIP solvers do)
    sd_gaps: list[float] = field(default_factory=list)    # heuristic - exact standard deviation of utilisation
    checked: int | None = None     # instances compared with brute force (None: too large to enumerate)
    mismatches: int = 0


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def bench_quality(n_items: int, n_gpus: int, instances: int) -> QualityRow:
    rng = random.Random(f"{SEED}:quality:{n_items}x{n_gpus}")
    row = QualityRow(f"{n_items}x{n_gpus}", instances)
    enumerable = n_gpus ** n_items <= BRUTE_FORCE_MAX
    if enumerable:
        row.checked = 0
    for _ in range(instances):
        items, load0, capacity = random_instance(rng, n_items, n_gpus)
        start = time.perf_counter()
        result = balance.solve(items, load0, capacity)
        row.exact_ms.append((time.perf_counter() - start) * 1000.0)
        start = time.perf_counter()
        h_choice, _ = balance.heuristic(items, load0, capacity)
        row.heuristic_ms.append((time.perf_counter() - start) * 1000.0)
        row.proven += bool(result.exact)

        # Recompute both answers from their choices rather than trusting the reported numbers.
        e_load = _loads(items, result.choice, load0) if result.feasible else None
        e_ok = e_load is not None and _within(e_load, capacity)
        e_var = balance.variance(e_load, capacity) if e_ok else float("inf")
        h_load = _loads(items, h_choice, load0)
        h_ok = h_load is not None and _within(h_load, capacity)
        h_var = balance.variance(h_load, capacity) if h_ok else float("inf")
        if enumerable:
            row.checked += 1
            optimum = brute_force(items, load0, capacity)
            if (not result.exact or result.feasible != (optimum < float("inf")) or e_ok != result.feasible
                    or (e_ok and not (_same(e_var, optimum) and _same(result.variance, optimum)))):
                row.mismatches += 1
        if not e_ok:
            continue
        row.feasible += 1
        if not h_ok:
            row.h_infeasible += 1
            continue
        gap = h_var - e_var
        row.gaps.append(gap)
        row.sd_gaps.append(math.sqrt(h_var) - math.sqrt(e_var))
        if gap <= 1e-9 * max(1.0, e_var):
            row.h_optimal += 1
        # Relative to the heuristic's variance (the incumbent, as MIP solvers report a gap): in [0, 1],
        # and defined when the optimum is 0. Relative to the optimum it explodes on near-even instances.
        row.rel_gaps.append(gap / h_var if h_var > 1e-12 else 0.0)
    return row


def end_to_end(path: Path, target: Path) -> list[str]:
    result = compile_infra(path, output_dir=target)
    assert result.ok and result.tree is not None, render_text(result.diag.findings)
    return write(make_plan(result.tree, result.output_dir), result.tree)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def _size(n: int) -> str:
    return f"{n / 1024:,.0f} KiB" if n < 1024 * 1024 else f"{n / (1024 * 1024):,.1f} MiB"


def table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    header = ["input", "bytes", "consumers", "GPUs", "files"] + [f"{s} ms" for s in STAGES]
    body = [[r.name, _size(r.bytes), f"{r.consumers:,}", f"{r.gpus:,}", f"{r.files:,}"]
            + [f"{r.ms[s]:,.1f}" for s in STAGES] for r in rows]
    return header, body


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}" if abs(x) >= 1e-4 or x == 0 else f"{x:.2e}"


def placement_table(rows: list[PlaceRow]) -> tuple[list[str], list[list[str]]]:
    header = ["input", "strategy", "place ms", "placed", "unplaced", "warnings", "GPUs over", "util. variance",
              "balance method", "variance", "lower bound", "gap"]
    body = []
    for r in rows:
        rep = r.report
        body.append([r.input, r.strategy + ("*" if r.strategy == "manual" else ""), f"{r.ms:,.1f}",
                     f"{r.placed:,}", f"{r.unplaced:,}", f"{r.warnings:,}", f"{r.over:,}", _num(r.util_variance),
                     rep.method if rep else "-", _num(rep.variance) if rep else "-",
                     _num(rep.lower_bound) if rep else "-", _num(rep.gap) if rep else "-"])
    return header, body


def quality_table(rows: list[QualityRow]) -> tuple[list[str], list[list[str]]]:
    header = ["shape", "instances", "feasible", "proven", "exact mean ms", "exact max ms", "heur. mean ms",
              "heur. optimal", "heur. over cap.", "mean gap", "max gap", "mean rel. gap", "max rel. gap",
              "max sd gap", "brute-forced", "mismatches"]
    body = []
    for r in rows:
        def pct(x: float) -> str:
            return f"{100 * x:.1f}%"
        body.append([r.shape, f"{r.instances}", f"{r.feasible}", f"{r.proven}", f"{fmean(r.exact_ms):.2f}",
                     f"{max(r.exact_ms):.2f}", f"{fmean(r.heuristic_ms):.3f}",
                     f"{r.h_optimal}/{r.feasible}", f"{r.h_infeasible}",
                     _num(fmean(r.gaps)) if r.gaps else "-", _num(max(r.gaps)) if r.gaps else "-",
                     pct(fmean(r.rel_gaps)) if r.rel_gaps else "-", pct(max(r.rel_gaps)) if r.rel_gaps else "-",
                     f"{100 * max(r.sd_gaps):.2f} pp" if r.sd_gaps else "-",
                     "-" if r.checked is None else f"{r.checked}",
                     "-" if r.checked is None else f"{r.mismatches}"])
    return header, body


def plain(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(x) for x in col) for col in zip(header, *body)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in body]) + "\n"


def markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def environment() -> str:
    c_loader = loader.SafeLoader.__name__.startswith("C")
    c_dumper = INPUT_DUMPER.__name__.startswith("C")
    return (f"Python {platform.python_version()} ({platform.python_implementation()}), PyYAML {yaml.__version__}; "
            f"psot loader: {loader.SafeLoader.__name__} ({'C, libyaml' if c_loader else 'pure Python'}); "
            f"input dumper: {INPUT_DUMPER.__name__} ({'C, libyaml' if c_dumper else 'pure Python'})")


def gc_share(path: Path, scratch: Path) -> str:
    """One unprofiled end-to-end run with the cyclic collector on (as a library caller runs the
    pipeline; the psot command turns it off), timing the collector through gc.callbacks."""
    spent = [0.0]
    counts = [0, 0, 0]
    began = [0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - began[0]
            counts[info["generation"]] += 1

    gc.collect()
    gc.callbacks.append(callback)
    try:
        start = time.perf_counter()
        end_to_end(path, _fresh_dir(scratch))
        t = time.perf_counter() - start
    finally:
        gc.callbacks.remove(callback)
    return (f"end to end {t * 1000:,.0f} ms, of which {spent[0] * 1000:,.0f} ms ({100 * spent[0] / t:.0f}%) in the "
            f"cyclic garbage collector ({counts[0]}/{counts[1]}/{counts[2]} collections of generation 0/1/2)")


def profile(row_spec: Spec, out: Path, top: int = 20) -> str:
    """cProfile one end-to-end run (compile + plan + write) of `row_spec`'s input."""
    path = out / row_spec.name / "infra.yml"
    if not path.is_file():
        path = generate(row_spec, out)
    scratch = out / row_spec.name / "scratch-profile"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    gc_line = gc_share(path, scratch)
    profiler = cProfile.Profile()
    profiler.enable()
    end_to_end(path, _fresh_dir(scratch))
    profiler.disable()
    shutil.rmtree(scratch, ignore_errors=True)
    text = io.StringIO()
    text.write(gc_line + "\n")
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


def _shapes(text: str) -> tuple[tuple[int, int, int], ...]:
    """`6x2:20,14x8:10` -> ((6, 2, 20), (14, 8, 10))."""
    out = []
    for part in text.split(","):
        try:
            dims, count = part.split(":")
            items, gpus = dims.lower().split("x")
            shape = (int(items), int(gpus), int(count))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not ITEMSxGPUS:INSTANCES (e.g. 8x3:200)") from None
        if min(shape) < 1:
            raise argparse.ArgumentTypeError(f"{part!r}: every number must be at least 1")
        out.append(shape)
    return tuple(out)


def print_targets(args: argparse.Namespace, out: Path) -> None:
    """The speed targets of issue 8 (bench/targets.py): psot as a subprocess against its floors."""
    print(f"\nspeed targets: `{' '.join(Path(c).name for c in targets.psot_command())}` in a fresh process, "
          f"best of {args.repeat}, wall clock in ms; bytecode cache in {out / 'pycache'}", flush=True)
    rows = targets.bench_targets(SPEED_INPUTS[args.sizes], generate, out, args.repeat,
                                 log=lambda line: print(line, file=sys.stderr, flush=True))
    validate = targets.bench_validate(out)
    edit = [targets.edit_table(targets.bench_edit(spec.name, generate(spec, out), out, args.repeat))
            for spec in SPEED_INPUTS[args.sizes] if spec.name == targets.EDIT_INPUT]
    if args.anklume is not None:
        script = targets.anklume_generator(args.anklume.resolve())
        edit.append(targets.anklume_table([
            targets.bench_anklume(spec.name, spec.a * spec.b, generate(spec, out), script, out, args.repeat)
            for spec in SPEED_INPUTS[args.sizes] if spec.kind == "anklume"]))
    bodies = []
    for title, header, body in targets.tables(rows, validate) + edit:
        print(f"\n{title}")
        print(plain(header, body), end="")
        if args.markdown:
            print()
            print(markdown(header, body), end="")
        bodies.append(body)
    print(f"\n{targets.summary(bodies)}", flush=True)
    if args.sizes == "large":
        print_scaling(args, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", choices=sorted(SIZES), default="default",
                        help="which inputs: small (seconds; the smoke test), default (make bench), "
                             "large (default plus bigger inputs)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="repetitions per stage; the best is "
                        "reported (default: 3)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="where inputs and scratch trees go "
                             f"(default: {DEFAULT_OUT.relative_to(BENCH_DIR.parent)})")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one end-to-end run of the slowest input and print the top functions")
    parser.add_argument("--no-quality", action="store_true", help="skip the balanced-quality table")
    parser.add_argument("--no-targets", action="store_true", help="skip the speed targets (psot as a subprocess)")
    parser.add_argument("--targets-only", action="store_true",
                        help="only the speed targets: no stage, placement or quality table")
    parser.add_argument("--anklume", type=Path, metavar="DIR",
                        help="also time AnKLuMe's own generator against `psot sync` on the AnKLuMe inputs: DIR is a "
                             f"checkout of github.com/jmchantrein/AnKLuMe at commit {targets.ANKLUME_COMMIT}")
    parser.add_argument("--hostless-only", action="store_true",
                        help="only the placement of workloads without host at scale (--sizes large: 100 000 over "
                             "1 000 GPUs), every strategy once")
    parser.add_argument("--scaling", action="store_true",
                        help="only the scaling to 32 000 machines (psot sync of anklume-200x40, -400x40, -800x40: "
                             "time and peak memory per machine); --sizes large runs it with the speed targets")
    parser.add_argument("--quality", type=_shapes, metavar="IxG:N,...",
                        help="balanced-quality shapes instead of the size's: I items x G GPUs, N instances "
                             "(e.g. 14x4:20, the exact solver's limits)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    specs = SIZES[args.sizes]
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    print(f"psot benchmark: --sizes {args.sizes}, best of {args.repeat}, in-process, times in ms")
    print(environment())
    print(f"inputs: {out}", flush=True)
    started = time.perf_counter()
    remove_scratch(out, set(specs) | set(SPEED_INPUTS[args.sizes]) | set(SCALING))   # what an interrupted run left
    try:
        return run(args, specs, out, started)
    finally:
        remove_scratch(out, set(specs) | set(SPEED_INPUTS[args.sizes]) | set(SCALING))


def print_scaling(args: argparse.Namespace, out: Path) -> None:
    """Issue 21's scaling to 32 000 machines (bench/targets.py, bench_scaling)."""
    rows = targets.bench_scaling(SCALING, generate, out, args.repeat,
                                 log=lambda line: print(line, file=sys.stderr, flush=True))
    title, header, body = targets.scaling_table(rows)
    print(f"\n{title}")
    print(plain(header, body), end="")
    if args.markdown:
        print()
        print(markdown(header, body), end="")
    print(f"\n{targets.summary([body])}", flush=True)


def run(args: argparse.Namespace, specs, out: Path, started: float) -> int:
    if args.scaling:
        print_scaling(args, out)
        print(f"\ntotal: {time.perf_counter() - started:.1f} s")
        return 0
    if not args.no_targets and not args.hostless_only:
        print_targets(args, out)
    if args.targets_only:
        print(f"\ntotal: {time.perf_counter() - started:.1f} s")
        return 0
    rows = []
    for spec in () if args.hostless_only else specs:
        t0 = time.perf_counter()
        row = bench_input(spec, out, args.repeat)
        rows.append(row)
        print(f"  {row.name}: {_size(row.bytes)}, {row.consumers:,} consumers, {row.gpus:,} GPUs, "
              f"{row.files:,} files, {row.findings:,} warnings ({time.perf_counter() - t0:.1f} s)",
              file=sys.stderr, flush=True)
    if rows:
        header, body = table(rows)
        print()
        print(plain(header, body), end="")
        print("\nstages:")
        for stage in STAGES:
            print(f"  {stage:<8} {STAGE_HELP[stage]}")
        if args.markdown:
            print()
            print(markdown(header, body), end="")

    place_rows = [p for r in rows for p in r.placements]
    for workloads, gpus in HOSTLESS[args.sizes]:
        t0 = time.perf_counter()
        infra = model.build(hostless_doc(workloads, gpus))
        place_rows += bench_strategies(f"hostless-{workloads}w-{gpus}g", infra, 1)
        print(f"  hostless-{workloads}w-{gpus}g: every strategy once ({time.perf_counter() - t0:.1f} s)",
              file=sys.stderr, flush=True)
    if place_rows:
        p_header, p_body = placement_table(place_rows)
        print(f"\nplacement per strategy: placement.place alone (no rules), best of {args.repeat}, ms")
        print(plain(p_header, p_body), end="")
        if HOSTLESS[args.sizes]:
            print("  hostless-*: Kubernetes workloads without host, every strategy timed once (not best of N).")
        print("  manual* runs on a copy of the input with every workload pinned to vram_based's GPU.\n"
              "  GPUs over: GPUs whose used VRAM passes vram_gb - headroom_gb; util. variance: variance of\n"
              "  used / (vram_gb - headroom_gb) over the GPUs; the last four columns are placement.balance.")
        if args.markdown:
            print()
            print(markdown(p_header, p_body), end="")

    status = 0
    if not args.no_quality and not args.hostless_only:
        shapes = args.quality or QUALITY_SHAPES[args.sizes]
        print(f"\nbalanced quality: balance.solve (exact) against balance.heuristic alone, random instances "
              f"(seed {SEED}), items x GPUs", flush=True)
        q_rows = []
        for n_items, n_gpus, instances in shapes:
            t0 = time.perf_counter()
            q_rows.append(bench_quality(n_items, n_gpus, instances))
            print(f"  {n_items}x{n_gpus}: {instances} instances ({time.perf_counter() - t0:.1f} s)",
                  file=sys.stderr, flush=True)
        q_header, q_body = quality_table(q_rows)
        print(plain(q_header, q_body), end="")
        print("  feasible: the exact solve placed every item within capacity; proven: Result.exact (the search\n"
              "  finished); heur. optimal: heuristic within capacity and as even as the exact answer, of the\n"
              "  feasible instances; heur. over cap.: heuristic over capacity where the exact answer is not;\n"
              "  gap: heuristic - exact variance of utilisation; rel. gap: gap / heuristic variance (the\n"
              "  incumbent, as MIP solvers report it); sd gap: heuristic - exact standard deviation of\n"
              "  utilisation, in percentage points; mismatches: exact answer != brute-force optimum (must be 0).")
        if args.markdown:
            print()
            print(markdown(q_header, q_body), end="")
        mismatches = sum(r.mismatches for r in q_rows)
        if mismatches:
            print(f"bench: {mismatches} exact answer(s) differ from the brute-force optimum", file=sys.stderr)
            status = 1

    if args.profile:
        slowest = max(zip(rows, specs), key=lambda rs: rs[0].ms["e2e"])[1]
        print(f"\ncProfile of one end-to-end run of {slowest.name}:")
        print(profile(slowest, out))
    print(f"\ntotal: {time.perf_counter() - started:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
