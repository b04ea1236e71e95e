"""The no-op sync (generator/workspace/cache.py): it skips compiling only when compiling would change nothing.

Every test compares with what a sync without the record does: same output,
same exit code, same tree. The record must never hide a change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from generator import sync as sync_module
from generator.cli.main import cli
from generator.serialize import header
from generator.workspace import cache as sync_cache
from tests.conftest import run_psot

OVERRIDE = "compose/ws/docker-compose.gpu-override.yml"


def sync(*args: str) -> tuple[int, str, str]:
    """`psot sync ARGS` as a subprocess: exit code, stdout, stderr."""
    done = run_psot("sync", *args)
    return done.returncode, done.stdout, done.stderr


def without_record(seed: Path, *args: str, out: Path | None = None) -> tuple[int, str, str]:
    """The same sync with the record removed first: what compiling says."""
    sync_cache.cache_file(out or seed.parent / "generated").unlink(missing_ok=True)
    return sync(*args)


def entries(root: Path) -> dict[str, tuple]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [""] + dirnames + filenames:
            path = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(path)
            found[os.path.relpath(path, root)] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return found


@pytest.fixture
def no_compile(monkeypatch):
    """Running `sync` in-process with compiling forbidden: only the record can answer."""
    def forbidden(*args, **kwargs):
        raise AssertionError("sync compiled although nothing changed")
    monkeypatch.setattr(sync_module, "compile_infra", forbidden)

    def run(*args: str) -> int:
        return cli.main(args=["sync", *args], prog_name="psot", standalone_mode=False)
    return run


def test_a_second_sync_does_not_compile_and_writes_nothing(seed_001, no_compile, capsys):
    assert sync(str(seed_001))[0] == 0
    record = sync_cache.cache_file(seed_001.parent / "generated")
    assert record.is_file()
    before = entries(seed_001.parent)
    assert no_compile(str(seed_001)) == 0
    assert "No changes. generated/ is up to date." in capsys.readouterr().out
    assert entries(seed_001.parent) == before, "a no-op sync writes no file, the record included"


@pytest.mark.parametrize("extra", [[], ["--format", "json"], ["--check"], ["--check", "--format", "json"],
                                   ["--dry-run"]])
def test_the_record_answers_exactly_what_compiling_answers(seed_001, extra):
    seed_001.write_text(seed_001.read_text() + "\nunknown_top_level_key: 1\n")   # a warning to print
    assert sync(str(seed_001))[0] == 0
    cached = sync(str(seed_001), *extra)
    assert cached == without_record(seed_001, str(seed_001), *extra)
    assert ("KEY001" in cached[1] + cached[2]) == ("--check" not in extra)   # --check prints no findings


def test_any_edit_of_infra_yml_compiles_again(seed_001, monkeypatch):
    assert sync(str(seed_001))[0] == 0
    seed_001.write_text(seed_001.read_text().replace("vram_gb: 1.5}", "vram_gb: 1.6}"))
    code, out, _ = sync(str(seed_001))
    assert code == 0 and "~ placement.yml" in out


def test_a_comment_edit_compiles_once_then_the_record_answers(seed_001, no_compile):
    assert sync(str(seed_001))[0] == 0
    seed_001.write_text(seed_001.read_text() + "\n# a comment\n")
    code, out, _ = sync(str(seed_001))
    assert code == 0 and "No changes." in out        # compiled: nothing to write, the record is renewed
    assert no_compile(str(seed_001)) == 0


@pytest.mark.parametrize("edit", ["extra_key: 1\n", "# a comment of mine\n"])
def test_a_hand_edit_is_reported_as_without_the_record(seed_001, edit):
    """Any byte edited by hand blocks the sync, a comment too: the record never hides it."""
    assert sync(str(seed_001))[0] == 0
    target = seed_001.parent / "generated" / OVERRIDE
    target.write_text(target.read_text() + edit)
    cached = sync(str(seed_001))
    assert cached[0] == 1 and "DRIFT001" in cached[2]
    assert cached == without_record(seed_001, str(seed_001))
    assert sync(str(seed_001)) == cached                   # and again, with whatever record is left


def test_a_deleted_file_is_written_again(seed_001):
    assert sync(str(seed_001))[0] == 0
    (seed_001.parent / "generated" / OVERRIDE).unlink()
    code, out, _ = sync(str(seed_001))
    assert code == 0 and f"+ {OVERRIDE}" in out
    assert (seed_001.parent / "generated" / OVERRIDE).is_file()


def test_an_orphan_is_reported_and_a_file_of_yours_is_not_a_change(seed_001, no_compile, capsys):
    assert sync(str(seed_001))[0] == 0
    out = seed_001.parent / "generated"
    (out / "notes.txt").write_text("my own notes\n")
    assert no_compile(str(seed_001)) == 0                # not psot's: the record still answers
    (out / "old.yml").write_text(header("infra.yml") + "a: 1\n")
    code, stdout, _ = sync(str(seed_001))
    assert code == 0 and "orphaned file" in stdout and "old.yml" in stdout


def test_the_key_covers_psot_itself_the_output_dir_and_the_working_directory(seed_001, tmp_path, no_compile,
                                                                              monkeypatch):
    assert sync(str(seed_001))[0] == 0
    monkeypatch.setattr(sync_cache, "fingerprint", lambda: "another psot")
    assert sync_cache.lookup(seed_001, None) is None
    monkeypatch.undo()
    other = tmp_path / "elsewhere"
    code, out, _ = sync(str(seed_001), "--output-dir", str(other))
    assert code == 0 and "+ placement.yml" in out
    monkeypatch.chdir(seed_001.parent)                      # findings would name infra.yml otherwise
    assert sync_cache.lookup(Path("infra.yml"), None) is None


def test_directory_mode_sees_a_new_domain_file(tmp_path, no_compile):
    infra = tmp_path / "infra"
    (infra / "domains").mkdir(parents=True)
    (infra / "base.yml").write_text("project_name: p\nglobal: {}\ndomains: {}\n")
    (infra / "domains" / "a.yml").write_text("alpha:\n  machines:\n    web: {type: lxc}\n")
    assert sync(str(infra))[0] == 0
    assert no_compile(str(infra)) == 0
    (infra / "domains" / "b.yml").write_text("beta:\n  machines:\n    db: {type: lxc}\n")
    code, out, _ = sync(str(infra))
    assert code == 0 and "+ incus/beta/" in out


def test_no_record_when_a_sync_from_the_new_placement_would_place_differently(seed_001, monkeypatch):
    """A placement that moves again when started from itself: the next sync must compile."""
    monkeypatch.chdir(seed_001.parent)
    real = sync_cache.place_and_judge

    def restless(infra, diag, strategy, previous):
        placed = real(infra, diag, strategy, previous)
        name = next(iter(placed.assignments))
        moved = dict(placed.assignments)
        moved[name] = type(moved[name])(moved[name].gpus, moved[name].vram_gb + 1, moved[name].budget_gb,
                                        moved[name].fallback)
        return type(placed)(placed.strategy, moved, placed.gpus, placed.unplaced, placed.findings, placed.balance)
    monkeypatch.setattr(sync_cache, "place_and_judge", restless)
    assert cli.main(args=["sync", "infra.yml"], prog_name="psot", standalone_mode=False) == 0
    assert not sync_cache.cache_file(seed_001.parent / "generated").exists()


def test_no_record_for_an_output_dir_set_in_infra_yml(seed_001):
    data = yaml.safe_load(seed_001.read_text())
    data["global"]["output_dir"] = "build/out"
    seed_001.write_text(yaml.safe_dump(data, sort_keys=False))
    assert sync(str(seed_001))[0] == 0
    assert (seed_001.parent / "build" / "out" / "placement.yml").is_file()
    assert not list(seed_001.parent.rglob(".*.psot-cache"))
    code, out, _ = sync(str(seed_001))                     # compiled again: still right
    assert code == 0 and "No changes." in out


def test_a_damaged_record_is_ignored(seed_001):
    assert sync(str(seed_001))[0] == 0
    record = sync_cache.cache_file(seed_001.parent / "generated")
    for damage in ("not json", json.dumps({"psot-cache": 1}), json.dumps([1, 2])):
        record.write_text(damage)
        assert sync_cache.lookup(seed_001, None) is None
        assert sync(str(seed_001))[:2] == without_record(seed_001, str(seed_001))[:2]
