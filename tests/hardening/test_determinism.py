"""One input, one output (issue 8, Robustness: determinism).

The generated tree (every byte of every file, psot's manifest included) is
the same across runs, across PYTHONHASHSEED values, and whatever the order
of the keys of infra.yml's mappings: none of them has a meaningful order
(hosts, GPUs, workloads, domains, machines, profiles, config, environment,
labels...), while lists keep theirs. The README promises it too: "An edit
that only moves lines in infra.yml must not change the generated tree."
"""

from __future__ import annotations

import copy
import functools
import random
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from generator.pipeline import compile_infra
from tests.conftest import REPO
from tests.hardening.helpers import FUZZ, SEED_INPUTS, anklume_doc, run_psot, tree_hashes, write_doc

HASH_SEEDS = ("0", "1", "2718281", "random")


def kitchen_sink() -> dict:
    """Mappings of every kind with several keys: Incus config and devices, compose environment, labels."""
    doc = anklume_doc(3, 4)
    for domain in doc["domains"].values():
        for machine in domain["machines"].values():
            machine["config"].update({"limits.memory": "2GiB", "boot.autostart": True, "user.note": "x"})
    doc["hosts"]["ws"] = {"platform": "docker", "labels": {"b": "1", "a": "2", "c": "3"}, "gpus": {
        "big": {"vendor": "nvidia", "vram_gb": 24, "index": 0},
        "small": {"vendor": "nvidia", "vram_gb": 8, "index": 1}}}
    doc["workloads"] = {name: {"target": "compose", "host": "ws", "gpu": {"vram_gb": vram},
                               "environment": {"Z_LAST": "z", "A_FIRST": "a", "M_MID": vram}}
                        for name, vram in (("svc-c", 6), ("svc-a", 6), ("svc-b", 4))}
    return doc


INPUTS = {"default" if p.parent == REPO else str(p.parent.relative_to(REPO / "examples")): p for p in SEED_INPUTS}


@pytest.fixture(scope="module")
def sink(tmp_path_factory) -> Path:
    return write_doc(tmp_path_factory.mktemp("sink") / "infra.yml", kitchen_sink())


def test_the_tree_is_the_same_whatever_the_hash_seed(tmp_path, sink):
    jobs = [(name, path, seed) for name, path in [*INPUTS.items(), ("kitchen-sink", sink)] for seed in HASH_SEEDS]

    def run(job):
        name, path, seed = job
        out = tmp_path / name / seed / "generated"
        done = run_psot("sync", str(path), "-o", str(out), PYTHONHASHSEED=seed)
        assert done.returncode == 0, done.stderr
        return tree_hashes(out)

    with ThreadPoolExecutor(max_workers=2) as pool:
        trees = dict(zip(jobs, pool.map(run, jobs)))
    for name in [*INPUTS, "kitchen-sink"]:
        by_seed = {seed: tree for (n, _, seed), tree in trees.items() if n == name}
        first = by_seed[HASH_SEEDS[0]]
        assert len(first) > 2
        for seed, tree in by_seed.items():
            differ = sorted(p for p in set(tree) | set(first) if tree.get(p) != first.get(p))
            assert not differ, f"{name}: PYTHONHASHSEED={seed} gives other bytes in {differ}"
    # And a second sync under another seed finds nothing to do.
    again = run_psot("sync", str(sink), "-o", str(tmp_path / "kitchen-sink" / "0" / "generated"), PYTHONHASHSEED="99")
    assert again.returncode == 0 and "No changes" in again.stdout, again.stdout


def shuffled(data, rng: random.Random):
    """Every mapping's keys in a random order; lists keep theirs."""
    if isinstance(data, dict):
        items = list(data.items())
        rng.shuffle(items)
        return {key: shuffled(value, rng) for key, value in items}
    if isinstance(data, list):
        return [shuffled(item, rng) for item in data]
    return data


def reversed_mappings(data):
    if isinstance(data, dict):
        return {key: reversed_mappings(value) for key, value in reversed(data.items())}
    if isinstance(data, list):
        return [reversed_mappings(item) for item in data]
    return data


def compiled_tree(doc: dict, name: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="psot-det-") as tmp:
        if name in INPUTS and INPUTS[name].parent != REPO:   # an example's other files (its kustomize base)
            shutil.copytree(INPUTS[name].parent, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("generated"))
        path = Path(tmp) / "infra.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        result = compile_infra(path, output_dir=Path(tmp) / "generated")
        assert result.ok, [f.format() for f in result.diag.findings if f.severity == "error"]
        return result.tree


@functools.cache
def reference(name: str) -> tuple[dict, dict[str, bytes]]:
    doc = kitchen_sink() if name == "kitchen-sink" else yaml.safe_load(INPUTS[name].read_text(encoding="utf-8"))
    return doc, compiled_tree(doc, name)


def assert_same_tree(name: str, tree: dict[str, bytes]) -> None:
    expected = reference(name)[1]
    differ = sorted(p for p in set(tree) | set(expected) if tree.get(p) != expected.get(p))
    assert not differ, f"{name}: reordering infra.yml's mapping keys changed {differ}"


@FUZZ
@given(name=st.sampled_from([*INPUTS, "kitchen-sink"]), seed=st.integers(0, 2 ** 32 - 1))
def test_the_tree_is_the_same_whatever_the_order_of_mapping_keys(name, seed):
    doc = reference(name)[0]
    assert_same_tree(name, compiled_tree(shuffled(copy.deepcopy(doc), random.Random(seed)), name))


@pytest.mark.parametrize("name", [*INPUTS, "kitchen-sink"])
def test_every_mapping_reversed_gives_the_same_tree(name):
    """The regression of the bug the shuffle found: GPU002 and VRAM002 listed consumers in file order, so
    placement.yml changed when workloads were reordered (multi-gpu-compose, dual-gpu-proxmox)."""
    assert_same_tree(name, compiled_tree(reversed_mappings(reference(name)[0]), name))


def test_two_compilations_in_one_process_are_identical():
    for name in INPUTS:
        assert compiled_tree(reference(name)[0], name) == reference(name)[1]
