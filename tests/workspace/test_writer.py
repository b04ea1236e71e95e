"""The write stage: whole-tree atomicity, unchanged files untouched, symlinks never followed, a lock."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from generator.plan.changes import make_plan
from generator.serialize import header
from generator.workspace import writer

H = header("infra.yml")


def tree(**files: str) -> dict[str, bytes]:
    return {path.replace("__", "/"): (H + body).encode() for path, body in files.items()}


def sync(out: Path, new: dict[str, bytes], **kwargs) -> list[str]:
    return writer.write(make_plan(new, out), new, **kwargs)


def leftovers(parent: Path) -> list[Path]:
    """Staging trees a sync left beside generated/ (the lock file is meant to stay)."""
    return sorted(parent.glob(".generated.psot-new-*")) + sorted(parent.glob(".generated.psot-old-*"))


def snapshot(root: Path) -> dict[str, bytes]:
    """The generated files (not psot's own record in .psot/)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".psot" not in p.relative_to(root).parts}


def test_changed_file_is_replaced_and_unchanged_files_keep_inode_and_mtime(tmp_path):
    out = tmp_path / "generated"
    sync(out, tree(a__one_yml="x: 1\n", b__two_yml="y: 2\n"))
    keep = (out / "a" / "one_yml").stat()
    written = sync(out, tree(a__one_yml="x: 1\n", b__two_yml="y: 3\n"))
    assert written == ["b/two_yml"]
    after = (out / "a" / "one_yml").stat()
    assert (after.st_ino, after.st_mtime_ns) == (keep.st_ino, keep.st_mtime_ns)
    assert (out / "b" / "two_yml").read_text().endswith("y: 3\n")
    assert not leftovers(tmp_path), "staging directories are cleaned up"


def test_a_failure_before_the_swap_leaves_the_old_tree_whole(tmp_path, monkeypatch):
    out = tmp_path / "generated"
    sync(out, tree(a_yml="v: 1\n", b_yml="v: 1\n"))
    before = snapshot(out)

    def crash(staging, output_dir):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(writer, "_swap", crash)
    with pytest.raises(writer.WriteError, match="No space left on device"):
        sync(out, tree(a_yml="v: 2\n", b_yml="v: 2\n"))
    assert snapshot(out) == before
    assert not leftovers(tmp_path)


def test_without_rename_exchange_the_two_rename_swap_is_recovered_after_a_kill(tmp_path, monkeypatch):
    out = tmp_path / "generated"
    sync(out, tree(a_yml="v: 1\n"))
    before = snapshot(out)
    # A sync killed between the fallback's two renames leaves only the old tree, moved aside.
    os.rename(out, tmp_path / ".generated.psot-old-999")
    (tmp_path / ".generated.psot-new-abc").mkdir()
    monkeypatch.setattr(writer, "exchange", lambda a, b: False)
    sync(out, tree(a_yml="v: 1\n", c_yml="v: 3\n"))
    assert snapshot(out) == {**before, "c_yml": (H + "v: 3\n").encode()}
    assert not leftovers(tmp_path)


def test_a_symlink_inside_generated_is_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("do not touch\n")
    out = tmp_path / "generated"
    out.mkdir()
    os.symlink(outside, out / "compose")
    os.symlink(outside / "precious", out / "placement.yml")
    sync(out, {"compose/ws/override.yml": (H + "s: 1\n").encode(), "placement.yml": (H + "p: 1\n").encode()})
    assert sorted(p.name for p in outside.iterdir()) == ["precious"]
    assert (outside / "precious").read_text() == "do not touch\n"
    assert not (out / "compose").is_symlink() and (out / "compose" / "ws" / "override.yml").is_file()
    assert not (out / "placement.yml").is_symlink()


def test_an_unrelated_symlink_is_carried_over_as_a_link(tmp_path):
    out = tmp_path / "generated"
    out.mkdir()
    os.symlink("/nonexistent/target", out / "link")
    sync(out, tree(a_yml="v: 1\n"))
    assert os.readlink(out / "link") == "/nonexistent/target"


def test_a_second_writer_waits_then_gives_up_with_a_clear_message(tmp_path):
    out = tmp_path / "generated"
    with writer.locked(out), pytest.raises(writer.WriteError, match=r"another psot \(sync or apply\) is using"):
        sync(out, tree(a_yml="v: 1\n"), lock_timeout=0.2)
    sync(out, tree(a_yml="v: 1\n"), lock_timeout=0.2)
    assert (out / "a_yml").is_file()


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from generator.workspace import writer
    from generator.plan.changes import make_plan
    from generator.serialize import header
    out = Path(sys.argv[1])
    version = sys.argv[2]
    stop_after = int(sys.argv[3])
    new = {f"d{i % 7}/f{i}.yml": (header("infra.yml") + f"v: {version}\\n").encode() for i in range(60)}
    real = writer._write_file
    count = 0
    def write_then_maybe_die(root, rel, content, *args, **kwargs):
        global count
        real(root, rel, content, *args, **kwargs)
        count += 1
        if count == stop_after:
            os.kill(os.getpid(), signal.SIGKILL)
    writer._write_file = write_then_maybe_die
    writer.write(make_plan(new, out), new)
""")


@pytest.mark.parametrize("stop_after", [1, 30, 59])
def test_sigkill_while_writing_leaves_the_old_tree_and_the_next_sync_works(tmp_path, stop_after):
    out = tmp_path / "generated"
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    first = subprocess.run([sys.executable, str(script), str(out), "1", "0"], env=env)
    assert first.returncode == 0
    old = snapshot(out)
    killed = subprocess.run([sys.executable, str(script), str(out), "2", str(stop_after)], env=env)
    assert killed.returncode == -signal.SIGKILL
    assert snapshot(out) == old, "a kill while staging must leave the old tree exactly"
    done = subprocess.run([sys.executable, str(script), str(out), "2", "0"], env=env)
    assert done.returncode == 0
    assert set(snapshot(out).values()) == {(H + "v: 2\n").encode()}
    assert not leftovers(tmp_path)


def test_a_mount_point_is_not_replaced(tmp_path, monkeypatch):
    """generated/ mounted (a tmpfs of its own): renaming a new tree into its place cannot work; say why."""
    out = tmp_path / "generated"
    sync(out, tree(a_yml="v: 1\n"))
    real = os.path.ismount
    monkeypatch.setattr(writer.os.path, "ismount", lambda path: Path(path) == out or real(path))
    with pytest.raises(writer.WriteError) as caught:
        sync(out, tree(a_yml="v: 2\n"))
    assert str(caught.value) == (f"{out} is a mount point: psot replaces the output directory by renaming a new one "
                                 "into its place, which cannot be done to a mount point; choose a directory inside "
                                 "it as the output directory")
    assert (out / "a_yml").read_text().endswith("v: 1\n") and not leftovers(tmp_path)


def test_a_filesystem_without_extended_attributes_is_written_all_the_same(tmp_path, monkeypatch):
    out = tmp_path / "generated"
    sync(out, tree(d__a_yml="v: 1\n"))
    os.chmod(out / "d", 0o750)

    def unsupported(*args, **kwargs):
        raise OSError(errno.ENOTSUP, "Operation not supported")
    monkeypatch.setattr(writer.os, "listxattr", unsupported)
    assert sync(out, tree(d__a_yml="v: 2\n")) == ["d/a_yml"]
    assert (out / "d" / "a_yml").read_text().endswith("v: 2\n")
    assert os.stat(out / "d").st_mode & 0o7777 == 0o750


def plant_leftovers(parent: Path, outside: Path) -> Path:
    """What killed syncs leave beside generated/ (a staging tree, a tree moved aside), and a symlink of
    such a name planted to a directory elsewhere: the symlink's path."""
    (parent / ".generated.psot-new-killed" / "compose").mkdir(parents=True)
    (parent / ".generated.psot-new-killed" / "compose" / "half.yml").write_text("x: 1\n")
    (parent / ".generated.psot-old-4242").mkdir()
    (outside / "keep").mkdir(parents=True)
    planted = parent / ".generated.psot-new-planted"
    planted.symlink_to(outside)
    return planted


@pytest.mark.parametrize("recorded", [True, False], ids=["cached", "compiled"])
def test_a_sync_that_writes_nothing_still_cleans_what_a_killed_sync_left(seed_001, tmp_path, recorded, monkeypatch):
    """The no-op record answers before the writer runs (sync_cache.py), and an unchanged tree never reaches
    the writer's own cleaning: leftovers are cleaned under the lock all the same, symlinks left alone."""
    from click.testing import CliRunner

    from generator import sync as sync_module
    from generator.cli import main as cli_module
    from generator.workspace import cache as sync_cache
    from tests.conftest import run_psot
    assert run_psot("sync", str(seed_001)).returncode == 0
    record = sync_cache.cache_file(seed_001.parent / "generated")
    if recorded:
        monkeypatch.setattr(sync_module, "compile_infra", lambda *a, **k: pytest.fail("the record did not answer"))
    else:
        record.unlink()
    planted = plant_leftovers(seed_001.parent, tmp_path / "outside")
    for flag in ("--check", "--dry-run"):   # they write nothing at all
        assert CliRunner().invoke(cli_module.cli, ["sync", str(seed_001), flag]).exit_code == 0
    assert len(leftovers(seed_001.parent)) == 3
    result = CliRunner().invoke(cli_module.cli, ["sync", str(seed_001)])
    assert result.exit_code == 0 and "No changes. generated/ is up to date." in result.stdout, result.output
    assert leftovers(seed_001.parent) == [planted] and os.readlink(planted) == str(tmp_path / "outside")
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["keep"]


def test_cleaning_leftovers_does_not_wait_for_a_held_lock(tmp_path):
    out = tmp_path / "generated"
    sync(out, tree(a_yml="v: 1\n"))
    plant_leftovers(tmp_path, tmp_path / "outside")
    with writer.locked(out):
        start = time.monotonic()
        writer.tidy(out)
        assert time.monotonic() - start < 1
    assert len(leftovers(tmp_path)) == 3, "another psot holds the lock: it cleans when it writes"
    writer.tidy(out)
    assert [p.name for p in leftovers(tmp_path)] == [".generated.psot-new-planted"]
