"""The incremental caches (generator/workspace/incremental.py): what they hold, when they are not trusted.

tests/workspace/test_incremental_properties.py proves a compile with them is a compile without them
over random edits; these pin the cases an edit sequence does not reach: a hand edit that keeps the
size and the mtime, a file too recent to vouch for, a damaged or foreign cache, what a hit saves.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from generator.plan.changes import Drift, make_plan
from generator.workspace import incremental, sidecars
from tests.workspace.test_incremental_properties import CACHES, base_doc, psot, write

INSTANCE = "incus/dom-00/instances/d00-m001.yaml"


@pytest.fixture
def project(tmp_path) -> Path:
    """A project synced once, every file of its tree old enough to be recorded (no clock tick to wait)."""
    write(tmp_path, base_doc(), directory=False)
    return tmp_path


def synced(project: Path, monkeypatch, margin: int = -10 ** 15) -> Path:
    monkeypatch.setattr(incremental, "MARGIN_NS", margin)
    assert psot(project, "sync", "infra.yml", cold=False)[0] == 0
    return project / "generated"


def test_every_file_of_the_tree_is_recorded_and_then_not_read(project, monkeypatch):
    out = synced(project, monkeypatch)
    tree = compile_infra(project / "infra.yml", output_dir=out).need_tree()
    known = incremental.unchanged_files(out)
    assert set(known) == set(tree) and all(len(sha) == 64 for sha in known.values())
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: (opened.append(str(path)), real_open(path, *a, **k))[1])
    assert make_plan(tree, out, known).changes == ()
    assert not [p for p in opened if p.startswith(str(out))]


def test_a_file_too_recent_to_tell_from_a_hand_edit_is_not_recorded(project, monkeypatch):
    out = synced(project, monkeypatch, margin=10 ** 15)
    assert incremental.unchanged_files(out) == {}


def test_a_hand_edit_that_keeps_size_and_mtime_is_still_drift(project, monkeypatch):
    out = synced(project, monkeypatch)
    path = out / INSTANCE
    before = os.lstat(path)
    text = path.read_bytes()
    edited = text.replace(b"limits.cpu: '2'", b"limits.cpu: '3'")
    assert edited != text and len(edited) == len(text)
    path.write_bytes(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert INSTANCE not in incremental.unchanged_files(out)
    warm = psot(project, "plan", "infra.yml", cold=False)
    assert warm == psot(project, "plan", "infra.yml", cold=True)
    tree = compile_infra(project / "infra.yml", output_dir=out).need_tree()
    assert make_plan(tree, out, incremental.unchanged_files(out)).drift == (Drift(INSTANCE, 1 + next(
        i for i, line in enumerate(edited.splitlines()) if b"limits.cpu" in line)),)


def test_a_one_machine_edit_serialises_one_file_again(project, monkeypatch):
    doc = base_doc()
    doc["domains"]["dom-01"]["machines"]["d01-m001"]["config"]["limits.memory"] = "2GiB"
    write(project, doc, directory=False)
    # Synced twice: the first sync places from no placement.yml, whose data is equal but made of other
    # objects (the key records which are shared), so placement.yml would miss once more.
    synced(project, monkeypatch)
    write(project, base_doc(), directory=False)
    out = synced(project, monkeypatch)
    doc = base_doc()
    doc["domains"]["dom-00"]["machines"]["d00-m001"]["config"]["limits.memory"] = "3GiB"
    write(project, doc, directory=False)
    warm = compile_infra(project / "infra.yml", output_dir=out)
    for cache in CACHES:
        cache(out).unlink()
    cold = compile_infra(project / "infra.yml", output_dir=out)
    assert warm.tree == cold.tree and warm.memo is not None and cold.memo is not None
    assert (warm.memo.hits, cold.memo.hits) == (len(warm.need_tree()) - 1, 0)


@pytest.mark.parametrize("damage", [b"", b"not json\n", b'{"psot-render": 1}\n', b"[1, 2]\nxx"])
def test_a_damaged_cache_is_ignored(project, monkeypatch, damage):
    out = synced(project, monkeypatch)
    for cache in (sidecars.render_cache, sidecars.files_record, sidecars.parse_cache):
        cache(out).write_bytes(damage)
    assert incremental.unchanged_files(out) == {}
    compiled = compile_infra(project / "infra.yml", output_dir=out)
    assert (compiled.memo.hits, compiled.parse_memo.hits) == (0, 0)
    assert psot(project, "plan", "infra.yml", cold=False) == psot(project, "plan", "infra.yml", cold=True)


def test_a_cut_or_altered_render_cache_fails_its_checksum(project, monkeypatch):
    out = synced(project, monkeypatch)
    raw = sidecars.render_cache(out).read_bytes()
    for damaged in (raw[:-1], raw[:-1] + bytes([raw[-1] ^ 1])):
        sidecars.render_cache(out).write_bytes(damaged)
        assert compile_infra(project / "infra.yml", output_dir=out).memo.hits == 0


def test_the_caches_of_another_psot_are_not_trusted(project, monkeypatch):
    out = synced(project, monkeypatch)
    monkeypatch.chdir(project)   # as the sync ran: findings name the file relative to the working directory
    # Every top-level entry: project_name, global, the three domains, hosts, workloads.
    assert compile_infra(Path("infra.yml"), output_dir=out).parse_memo.hits == 7
    monkeypatch.setattr(incremental, "fingerprint", lambda: "another psot")
    assert incremental.unchanged_files(out) == {}
    compiled = compile_infra(project / "infra.yml", output_dir=out)
    assert (compiled.memo.hits, compiled.parse_memo.hits) == (0, 0)


def test_a_file_another_sync_wrote_meanwhile_is_not_recorded(project, monkeypatch):
    out = synced(project, monkeypatch)
    tree = compile_infra(project / "infra.yml", output_dir=out).need_tree()
    ours = dict(tree, **{INSTANCE: tree[INSTANCE] + b"# what this sync wrote, before another swapped its tree in\n"})
    incremental.record_files(out, ours, written=list(ours))
    assert set(incremental.unchanged_files(out)) == set(tree) - {INSTANCE}
