"""generator/workspace/atomic.py: a file psot writes is whole or absent, on disk, and `create_file` never
replaces anything."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from generator.workspace import atomic


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def count_fsyncs(monkeypatch) -> list[int]:
    """The descriptors os.fsync is called on, as they are called."""
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: calls.append(fd) or real(fd))
    return calls


def test_replace_file_replaces_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("old\n")
    atomic.replace_file(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~umask())
    assert names(tmp_path) == ["record.json"]


def test_replace_file_with_a_mode(tmp_path):
    path = tmp_path / "record.json"
    atomic.replace_file(path, b"{}", mode=0o600)
    assert (path.read_bytes(), oct(path.stat().st_mode & 0o777)) == (b"{}", oct(0o600))


def test_replace_file_flushes_the_file_and_then_its_directory(tmp_path, monkeypatch):
    calls = count_fsyncs(monkeypatch)
    atomic.replace_file(tmp_path / "f", b"x")
    assert len(calls) == 2


def test_a_symlink_in_the_way_is_replaced_never_followed(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("theirs\n")
    link = tmp_path / "record.json"
    link.symlink_to(target)
    atomic.replace_file(link, b"mine\n")
    assert (link.is_symlink(), link.read_bytes(), target.read_text()) == (False, b"mine\n", "theirs\n")


def test_a_failed_rename_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "record.json"
    path.write_text("old\n")

    def full(source, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(atomic.os, "replace", full)
    with pytest.raises(OSError, match="No space left"):
        atomic.replace_file(path, b"new\n")
    assert (path.read_text(), names(tmp_path)) == ("old\n", ["record.json"])


@pytest.mark.parametrize("name, prefix", [("infra.yml", ".infra.yml.psot-"),
                                          (".generated.psot-cache", ".generated.psot-cache.psot-")])
def test_the_temporary_file_is_hidden_and_says_whose_it_is(tmp_path, monkeypatch, name, prefix):
    seen = []
    real = os.replace

    def spy(source, target):
        seen.append(Path(source).name)
        real(source, target)
    monkeypatch.setattr(atomic.os, "replace", spy)
    atomic.replace_file(tmp_path / name, b"x")
    assert len(seen) == 1 and seen[0].startswith(prefix) and len(seen[0]) > len(prefix)


def test_create_file_never_replaces_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "infra.yml"
    atomic.create_file(path, b"first\n")
    assert path.read_text() == "first\n"
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~umask())
    with pytest.raises(FileExistsError):
        atomic.create_file(path, b"second\n")
    assert path.read_text() == "first\n"
    assert names(tmp_path) == ["infra.yml"]


def test_create_file_does_not_take_the_name_of_a_dangling_symlink(tmp_path):
    path = tmp_path / "infra.yml"
    path.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        atomic.create_file(path, b"first\n")
    assert (path.is_symlink(), names(tmp_path)) == (True, ["infra.yml"])


def test_create_file_without_hard_links_renames_without_replacing(tmp_path, monkeypatch):
    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "infra.yml"
    atomic.create_file(path, b"first\n")
    assert path.read_text() == "first\n"
    with pytest.raises(FileExistsError):
        atomic.create_file(path, b"second\n")
    assert path.read_text() == "first\n"
    assert names(tmp_path) == ["infra.yml"]


def test_exchange_swaps_two_directories(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "in-a").touch()
    (b / "in-b").touch()
    assert atomic.exchange(a, b) is True
    assert (names(a), names(b)) == (["in-b"], ["in-a"])


def test_exchange_with_a_missing_directory_is_an_oserror(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(FileNotFoundError):
        atomic.exchange(tmp_path / "a", tmp_path / "missing")
