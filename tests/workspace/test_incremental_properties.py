"""Incremental compilation changes nothing but the time it takes (generator/workspace/incremental.py).

Two projects go through the same random sequence of edits (machines, GPUs, workloads and profiles
added, removed and changed; in directory mode, across domain files), each step planned then synced:
one keeps the caches its syncs leave beside generated/, the other has them deleted before every
command, so it compiles cold. Every plan, every sync, every exit code, every line printed and every
byte of the tree must be the same.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.cli.main import cli
from generator.workspace import sidecars
from tests.hardening.helpers import anklume_doc, tree_hashes

CACHES = (sidecars.render_cache, sidecars.files_record, sidecars.parse_cache, sidecars.cache)


def base_doc() -> dict:
    """Three domains of three Incus machines on `lab` (two GPUs), two compose services on `ws`."""
    doc = anklume_doc(3, 3)
    doc["hosts"]["ws"] = {"platform": "docker", "gpus": {
        "big": {"vendor": "nvidia", "vram_gb": 24, "index": 0},
        "small": {"vendor": "nvidia", "vram_gb": 8, "index": 1}}}
    doc["workloads"] = {f"svc-{n}": {"target": "compose", "host": "ws", "gpu": {"vram_gb": 2 + n}}
                        for n in range(2)}
    return doc


def edit(doc: dict, op: str, a: int, b: int) -> None:
    """One edit of `doc`; `a` and `b` pick what it touches (modulo what there is)."""
    domains = sorted(doc["domains"])
    domain = doc["domains"][domains[a % len(domains)]]
    machines = sorted(domain["machines"])
    if op == "memory" and machines:
        domain["machines"][machines[b % len(machines)]]["config"]["limits.memory"] = f"{1 + b % 5}GiB"
    elif op == "add machine":
        domain["machines"][f"{domains[a % len(domains)][4:]}-x{b % 4}"] = {
            "type": "lxc", "config": {"limits.cpu": "1"}, "profiles": ["default"]}
    elif op == "remove machine" and len(machines) > 1:
        del domain["machines"][machines[b % len(machines)]]
    elif op == "gpu machine" and machines:
        domain["machines"][machines[b % len(machines)]].update({"gpu": True, "profiles": ["default", "gpu"]})
    elif op == "profile":
        domain["profiles"]["gpu"]["config"] = {"user.note": f"note {b % 3}"}
    elif op == "add gpu":
        host = doc["hosts"]["lab" if a % 2 else "ws"]
        index = len(host["gpus"])
        host["gpus"][f"extra-{b % 3}"] = {"vendor": "nvidia", "vram_gb": 8 + 8 * (b % 3), "index": index,
                                           **({"pci": f"0000:1{index}:00.0"} if a % 2 else {})}
    elif op == "remove gpu":
        gpus = doc["hosts"]["lab" if a % 2 else "ws"]["gpus"]
        if len(gpus) > 1:
            del gpus[sorted(gpus)[b % len(gpus)]]
    elif op == "workload":
        doc["workloads"][f"svc-{a % 3}"] = {"target": "compose", "host": "ws", "gpu": {"vram_gb": 1 + b % 30}}
    elif op == "remove workload" and len(doc["workloads"]) > 1:
        del doc["workloads"][sorted(doc["workloads"])[a % len(doc["workloads"])]]


OPS = ("memory", "add machine", "remove machine", "gpu machine", "profile", "add gpu", "remove gpu", "workload",
       "remove workload")
EDITS = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=4)


def write(project: Path, doc: dict, directory: bool) -> Path:
    """The input of `doc` in `project`: infra.yml, or infra/ with the domains over two files."""
    if not directory:
        (project / "infra.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return Path("infra.yml")
    root = project / "infra"
    shutil.rmtree(root, ignore_errors=True)
    (root / "domains").mkdir(parents=True)
    base = {k: v for k, v in doc.items() if k != "domains"} | {"domains": {}}
    (root / "base.yml").write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    for i, name in enumerate(sorted(doc["domains"])):
        with (root / "domains" / f"part-{i % 2}.yml").open("a", encoding="utf-8") as fh:
            fh.write(yaml.safe_dump({name: doc["domains"][name]}, sort_keys=False))
    return Path("infra")


def psot(project: Path, *args: str, cold: bool) -> tuple[int, str]:
    """`psot ARGS` in `project` (findings name files relative to it); `cold`: its caches deleted first."""
    if cold:
        for cache in CACHES:
            cache(project / "generated").unlink(missing_ok=True)
    out = io.StringIO()
    here = os.getcwd()
    os.chdir(project)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = cli.main(args=list(args), prog_name="psot", standalone_mode=False)
    finally:
        os.chdir(here)
    return code, out.getvalue()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS, directory=st.booleans())
def test_a_compile_with_the_caches_is_the_compile_without_them(tmp_path_factory, edits, directory):
    root = tmp_path_factory.mktemp("incremental")
    warm, cold = root / "warm", root / "cold"
    doc = base_doc()
    for project in (warm, cold):
        project.mkdir()
        infra = write(project, doc, directory)
        assert psot(project, "sync", str(infra), cold=project == cold)[0] == 0
    assert all(cache(warm / "generated").is_file() for cache in CACHES)
    for op, a, b in edits:
        edit(doc, op, a, b)
        for project in (warm, cold):
            write(project, doc, directory)
        for command in ("plan", "sync"):
            assert psot(warm, command, str(infra), cold=False) == psot(cold, command, str(infra), cold=True), \
                (command, op, a, b)
        assert tree_hashes(warm / "generated") == tree_hashes(cold / "generated"), (op, a, b)
