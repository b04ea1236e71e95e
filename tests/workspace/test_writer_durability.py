"""Every staged file is on disk before the swap: one syncfs on Linux, an fsync per file elsewhere."""

from __future__ import annotations

import os

import pytest

from generator.plan.changes import make_plan
from generator.serialize import header
from generator.workspace import writer

FILES = {f"d{i % 3}/f{i}.yml": (header("infra.yml") + f"v: {i}\n").encode() for i in range(12)}


def count_syncs(monkeypatch) -> dict[str, list]:
    calls: dict[str, list] = {"fsync": [], "syncfs": []}
    real_fsync = os.fsync
    monkeypatch.setattr(writer.os, "fsync", lambda fd: calls["fsync"].append(fd) or real_fsync(fd))
    real_syncfs = writer._syncfs
    monkeypatch.setattr(writer, "_syncfs", lambda path: calls["syncfs"].append(path) or real_syncfs(path))
    return calls


@pytest.mark.skipif(writer._syncfs_function() is None, reason="no syncfs(2) on this platform")
def test_one_syncfs_replaces_an_fsync_per_file(tmp_path, monkeypatch):
    calls = count_syncs(monkeypatch)
    out = tmp_path / "generated"
    assert len(writer.write(make_plan(FILES, out), FILES)) == len(FILES)
    assert len(calls["syncfs"]) == 1
    assert len(calls["fsync"]) == 2, "only the staging directory and its parent"
    assert {p: (out / p).read_bytes() for p in FILES} == FILES


def test_without_syncfs_every_file_is_fsynced(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "_syncfs_function", lambda: None)
    calls = count_syncs(monkeypatch)
    out = tmp_path / "generated"
    writer.write(make_plan(FILES, out), FILES)
    assert calls["syncfs"] == []
    assert len(calls["fsync"]) == len(FILES) + 1 + 2, "each file, the manifest, the two directories"


def test_a_syncfs_that_the_kernel_lacks_falls_back_to_fsync(tmp_path, monkeypatch):
    if writer._syncfs_function() is None:
        pytest.skip("no syncfs(2) on this platform")
    monkeypatch.setattr(writer, "_syncfs", lambda path: False)
    calls = count_syncs(monkeypatch)
    out = tmp_path / "generated"
    writer.write(make_plan(FILES, out), FILES)
    assert len(calls["fsync"]) == len(FILES) + 1 + 2
