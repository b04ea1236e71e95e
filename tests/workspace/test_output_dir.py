"""`-o/--output-dir`: psot replaces only a directory of its own, and keeps what its owner gave it.

The writer swaps the whole output directory for a new one, so `-o` is refused (PATH002, exit 1, at
`<command line>:1:1`) for the project or a directory holding it, a symlink, a file, a mount point,
and an existing directory psot did not make (no `.psot/manifest.json`); a new or empty directory is
fine. A refusal touches nothing: same inode, owner, mode, xattrs and contents. A directory psot does
replace keeps its owner, group, mode and extended attributes, and so do its subdirectories.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

import pytest

from generator.plan.changes import MANIFEST
from tests.conftest import REPO, run_psot

REFUSED = "<command line>:1:1: error[PATH002] --output-dir "
FIX = "pass a directory of its own (a new or an empty one, or one psot wrote before)"
FOREIGN = (f"holds files psot did not write (it has no {MANIFEST}); psot replaces the whole output directory, so it "
           f"writes only to a directory it made or an empty one: {FIX}")


def xattr_dir() -> Path:
    """A directory whose filesystem takes `user.` extended attributes: the temporary one, else the worktree's."""
    for base in (Path(tempfile.gettempdir()), REPO):
        probe = Path(tempfile.mkdtemp(prefix="psot-xattr-", dir=base))
        try:
            os.setxattr(probe, "user.psot-probe", b"1")
            return probe
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            probe.rmdir()
    raise AssertionError("no directory here takes user.* extended attributes")


@pytest.fixture
def xdir():
    """A fresh directory on a filesystem with user xattrs; removed afterwards."""
    import shutil
    path = xattr_dir()
    os.removexattr(path, "user.psot-probe")
    yield path
    shutil.rmtree(path)


def state(path: Path) -> dict:
    """Everything a refusal must leave as it was: per entry, inode, owner, mode, mtime, xattrs, bytes."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in ["."] + dirnames + filenames:
            entry = os.path.normpath(os.path.join(dirpath, name))
            st = os.lstat(entry)
            xattrs = {n: os.getxattr(entry, n, follow_symlinks=False)
                      for n in os.listxattr(entry, follow_symlinks=False)}
            content = Path(entry).read_bytes() if os.path.isfile(entry) and not os.path.islink(entry) else None
            found[os.path.relpath(entry, path)] = (st.st_ino, st.st_uid, st.st_gid, st.st_mode, st.st_mtime_ns,
                                                   xattrs, content)
    return found


def project(root: Path) -> Path:
    """The seed 001 example in `root/project`: its infra.yml."""
    infra = root / "project" / "infra.yml"
    infra.parent.mkdir(parents=True)
    infra.write_text((REPO / "examples" / "multi-gpu-compose" / "infra.yml").read_text())
    return infra


def refusal(output: str) -> str:
    return next(line for line in output.splitlines() if "PATH002" in line)


def test_a_directory_of_files_psot_did_not_write_is_refused_and_left_untouched(xdir):
    infra = project(xdir)
    foreign = xdir / "etc-copy"
    (foreign / "ssh").mkdir(parents=True)
    (foreign / "hosts").write_text("127.0.0.1 localhost\n")
    (foreign / "ssh" / "sshd_config").write_text("PermitRootLogin no\n")
    os.chown(foreign / "ssh", 1234, 5678)
    os.chmod(foreign / "ssh", 0o750)
    os.setxattr(foreign, "user.owner-note", b"ops")
    os.setxattr(foreign / "ssh", "user.label", b"secret")
    before, beside = state(foreign), sorted(os.listdir(xdir))
    for command in ("sync", "plan", "place", "apply"):
        result = run_psot(command, str(infra), "-o", str(foreign), "--format", "json")
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        body = json.loads(result.stdout)
        assert ([f["message"] for f in body["findings"] if f["code"] == "PATH002"]
                == [f"--output-dir {foreign}: {FOREIGN}"])
    text = run_psot("sync", str(infra), "-o", str(foreign))
    assert (text.returncode, refusal(text.stderr)) == (1, f"{REFUSED}{foreign}: {FOREIGN}")
    assert text.stderr.endswith("psot: 1 error, 0 warnings; nothing was written.\n")
    assert state(foreign) == before, "the directory was touched"
    assert sorted(os.listdir(xdir)) == beside, "nothing was created beside it (no lock, no staging, no record)"


@pytest.mark.parametrize("spelling", [".", "$PWD", "$PWD/", "..", "/", "./../project"])
def test_the_project_or_a_directory_holding_it_is_refused_and_nothing_moves(tmp_path, spelling):
    infra = project(tmp_path)
    where = infra.parent
    given = Path(spelling.replace("$PWD", str(where)))   # as Python prints it: `$PWD/` without its slash
    before_project, before_parent = state(where), sorted(os.listdir(tmp_path))
    result = run_psot("sync", "-o", spelling.replace("$PWD", str(where)), cwd=where)
    assert result.returncode == 1, result.stderr
    if spelling in (".", "$PWD", "$PWD/", "./../project"):
        why = f"is the project itself ({where}); psot replaces the whole output directory: {FIX}, such as generated"
    else:
        why = f"holds the project ({where}); psot replaces the whole output directory: {FIX}"
    assert refusal(result.stderr) == f"{REFUSED}{given}: {why}"
    assert "internal error" not in result.stderr and "File name too long" not in result.stderr
    assert state(where) == before_project and sorted(os.listdir(tmp_path)) == before_parent


def test_directory_mode_the_project_is_the_directory_holding_infra(tmp_path):
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "base.yml").write_text("project_name: lab\nglobal: {}\ndomains: {}\n")
    result = run_psot("sync", "infra", "-o", ".", cwd=tmp_path)
    assert refusal(result.stderr) == f"{REFUSED}.: is the project itself ({tmp_path}); psot replaces the whole " \
                                      f"output directory: {FIX}, such as generated"


def test_a_symlink_a_file_a_path_through_a_file_and_a_mount_point_are_refused(tmp_path):
    infra = project(tmp_path)
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "file").write_text("x\n")
    cases = {
        "link": "is a symlink (to " + str(real) + "); psot replaces the output directory and never follows a symlink "
                "there: pass the directory itself",
        "file": f"is a file, not a directory: {FIX}",
        "file/sub/dir": f"leads through {tmp_path / 'file'}, which is a file, not a directory: {FIX}",
        "/proc": "is a mount point; psot replaces the output directory by renaming a new one into its place, which "
                 "cannot be done to a mount point: pass a directory inside it, such as /proc/generated",
    }
    for given, why in cases.items():
        result = run_psot("sync", str(infra), "-o", given, cwd=tmp_path)
        assert (result.returncode, refusal(result.stderr)) == (1, f"{REFUSED}{given}: {why}"), result.stderr
    assert sorted(os.listdir(tmp_path)) == ["file", "link", "project", "real"] and list(real.iterdir()) == []


def test_new_empty_and_psot_made_directories_are_written(tmp_path):
    infra = project(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "new" / "deep", empty):
        first = run_psot("sync", str(infra), "-o", str(out))
        assert first.returncode == 0, first.stderr
        assert (out / MANIFEST).is_file() and (out / "placement.yml").is_file()
        # What psot wrote, with a note of the user's beside its files: still psot's directory.
        (out / "NOTES.md").write_text("mine\n")
        again = run_psot("sync", str(infra), "-o", str(out))
        assert again.returncode == 0 and "No changes." in again.stdout, again.stderr
    assert (empty / "NOTES.md").read_text() == "mine\n"


def test_a_planted_manifest_behind_a_symlink_is_no_proof(tmp_path):
    infra = project(tmp_path)
    out = tmp_path / "out"
    assert run_psot("sync", str(infra), "-o", str(out)).returncode == 0
    (out / ".psot").rename(tmp_path / "state")
    (out / ".psot").symlink_to(tmp_path / "state")
    result = run_psot("sync", str(infra), "-o", str(out))
    assert (result.returncode, refusal(result.stderr)) == (1, f"{REFUSED}{out}: {FOREIGN}")


def test_a_replaced_directory_keeps_owner_mode_and_xattrs_and_so_do_its_subdirectories(xdir):
    infra = project(xdir)
    out = xdir / "out"
    out.mkdir()
    os.chown(out, 1234, 5678)
    os.chmod(out, 0o2751)
    os.setxattr(out, "user.backup", b"nightly")
    assert run_psot("sync", str(infra), "-o", str(out)).returncode == 0
    compose = out / "compose"
    os.chown(compose, 4321, 8765)
    os.chmod(compose, 0o700)
    os.setxattr(compose, "user.label", b"gpu")
    infra.write_text(infra.read_text().replace("vram_gb: 24", "vram_gb: 23"))
    before = os.lstat(out).st_ino
    result = run_psot("sync", str(infra), "-o", str(out))
    assert result.returncode == 0 and "Wrote out/: 1 file changed." in result.stdout, result.stderr
    assert os.lstat(out).st_ino != before, "a new directory was swapped in"
    for path, owner, mode, xattrs in ((out, (1234, 5678), 0o2751, {"user.backup": b"nightly"}),
                                      (compose, (4321, 8765), 0o700, {"user.label": b"gpu"})):
        st = os.lstat(path)
        assert ((st.st_uid, st.st_gid), st.st_mode & 0o7777) == (owner, mode), path
        assert {n: os.getxattr(path, n) for n in os.listxattr(path)} == xattrs, path


def test_the_no_op_record_never_vouches_for_a_refused_directory(tmp_path):
    """A record beside a directory psot made stays unused once `-o` names it through a symlink."""
    infra = project(tmp_path)
    out = tmp_path / "out"
    assert run_psot("sync", str(infra), "-o", str(out)).returncode == 0
    (tmp_path / "alias").symlink_to(out)
    before = state(out)
    result = run_psot("sync", str(infra), "-o", str(tmp_path / "alias"))
    assert result.returncode == 1 and "No changes" not in result.stdout
    assert state(out) == before
