"""Write stage: make generated/ match the plan, atomically for the whole tree.

The new tree is assembled in a sibling staging directory: files that do
not change are hard links to the current ones (so their mtimes and inodes
stay), changed files are written, then made durable all at once with one
`syncfs` of the staging directory's filesystem (Linux; elsewhere each file
is fsync'ed as it is written: thousands of fsyncs cost seconds, one syncfs
milliseconds, and both leave every staged file on disk before the swap
makes it visible). Then the staging directory
and generated/ swap places in one `renameat2(RENAME_EXCHANGE)` call, so a
crash or a kill at any moment leaves either the whole old tree or the whole
new one. Where the kernel or filesystem cannot exchange, two renames are
used and the next run repairs an interrupted swap (see `_recover`).

A lock file beside generated/ serialises concurrent syncs. Symlinks found
in generated/ are copied as links and never followed; a generated file
whose path runs through one replaces it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from generator.env_settings import SettingError, seconds
from generator.plan.changes import MANIFEST, Plan, digest, make_plan, manifest_bytes, read_manifest, tree_identity
from generator.workspace import sidecars
from generator.workspace.atomic import exchange, fsync_dir

# How long a second sync/apply waits for the first one (PSOT_LOCK_TIMEOUT seconds overrides it; read when
# a lock is taken, so a bad value is a WriteError naming the variable, not a crash at import).
LOCK_TIMEOUT_S = 60.0
_NEW = sidecars.STAGING
_OLD = sidecars.MOVED_ASIDE


class WriteError(Exception):
    """generated/ could not be written; the message says why and what to do."""


@contextmanager
def locked(output_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `output_dir` (a `.NAME.psot-lock` file beside it)."""
    if timeout is None:
        try:
            timeout = seconds("PSOT_LOCK_TIMEOUT", LOCK_TIMEOUT_S)
        except SettingError as exc:
            raise WriteError(str(exc)) from None
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = sidecars.lock(output_dir)
    # O_NOFOLLOW: a symlink planted in the lock's place must not make psot create or open a file elsewhere.
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriteError(f"another psot (sync or apply) is using {output_dir} (lock {lock_path} "
                                     f"held for {timeout:.0f} s); wait for it to finish and run again") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _leftovers(output_dir: Path, kind: str) -> list[Path]:
    """The staging (`_NEW`) or moved-aside (`_OLD`) trees beside `output_dir`, sorted.

    Only a real directory is one psot made: a symlink (or a file) of that name was planted, and is left
    as it is, never followed. (A listing, not a glob: the name may hold `[` or `*`.)
    """
    prefix = f".{output_dir.name}{kind}"
    try:
        with os.scandir(output_dir.parent) as listing:
            return sorted(output_dir.parent / e.name for e in listing
                          if e.name.startswith(prefix) and e.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return []


def _recover(output_dir: Path) -> None:
    """Finish or undo what a killed sync left beside `output_dir` (under the lock)."""
    olds = _leftovers(output_dir, _OLD)
    if not output_dir.exists() and olds:
        # Killed between the two renames of the fallback swap: the old tree is whole.
        os.rename(olds.pop(), output_dir)
    for stale in olds + _leftovers(output_dir, _NEW):
        shutil.rmtree(stale, ignore_errors=True)   # rmtree never follows a symlink inside the tree


def tidy(output_dir: Path) -> None:
    """Clean what a killed sync left beside `output_dir`, also when this sync writes nothing (a no-op or
    cached sync never reaches `write`'s own cleaning).

    Only when there is something to clean, and only under the lock; a lock held by another sync or
    apply is not waited for: that one cleans when it writes.
    """
    try:
        if not (_leftovers(output_dir, _NEW) or _leftovers(output_dir, _OLD)):
            return
        with locked(output_dir, timeout=0):
            _recover(output_dir)
    except WriteError:
        return
    except OSError as exc:
        raise WriteError(f"cannot clean what an interrupted sync left beside {output_dir}: "
                         f"{exc.strerror or exc}") from exc


def _syncfs_function():
    """libc's syncfs(2), or None where there is none (not Linux)."""
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):
        return None


def _syncfs(path: Path) -> bool:
    """Flush the whole filesystem that holds `path` to disk; False when the platform cannot."""
    syncfs = _syncfs_function()
    if syncfs is None:
        return False
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs(fd) != 0:
            err = ctypes.get_errno()
            if err == errno.ENOSYS:
                return False
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)
    return True


def _fsync_files(root: Path, rels: list[str]) -> None:
    for rel in rels:
        fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# Extended attributes the filesystem does not support, or that only a privileged user may set
# (`security.*`, `trusted.*`): the new directory goes without them.
_XATTR_SKIPPED = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES)


def _copy_dir_metadata(src: str | Path, dst: Path) -> None:
    """Give the new directory `dst` the owner, group, extended attributes and mode of the one it replaces.

    A directory someone gave another owner, an ACL (`system.posix_acl_*`) or a label keeps them
    across syncs. The owner is copied when psot may (as root, or the group when its user is in it),
    the mode last, as an ACL's mask follows it.
    """
    st = os.lstat(src)
    if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        with suppress(PermissionError):   # not root: the directory is its user's, as any file it writes
            os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in _XATTR_SKIPPED:
            raise
        names = []
    for name in names:
        try:
            os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False), follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in _XATTR_SKIPPED + (errno.ENODATA,):   # ENODATA: removed meanwhile
                raise
    os.chmod(dst, stat.S_IMODE(st.st_mode))


def _copy_links(src: Path, dst: Path, skip: set[str]) -> None:
    """Mirror `src` into `dst` with hard links (files) and symlinks (links), except `skip`."""
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        rel_dir = os.path.relpath(dirpath, src)
        target_dir = dst / rel_dir if rel_dir != "." else dst
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                filenames.append(d)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for d in dirnames:
            (target_dir / d).mkdir(exist_ok=True)
            _copy_dir_metadata(os.path.join(dirpath, d), target_dir / d)
        for f in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, f)).replace(os.sep, "/")
            if rel in skip:
                continue
            source = os.path.join(dirpath, f)
            if os.path.islink(source):
                os.symlink(os.readlink(source), target_dir / f)
            else:
                os.link(source, target_dir / f, follow_symlinks=False)


def _write_file(root: Path, rel: str, content: bytes, fsync: bool = True, made: set[str] | None = None) -> None:
    """Write `root/rel`, replacing (never following) symlinks on the way.

    `made`: directories (relative paths) this write created or checked already; they are
    real directories, so the next file in them skips the checks.
    """
    parts = rel.split("/")
    parent = rel.rpartition("/")[0]
    if made is None or parent not in made:
        current = root
        for i, part in enumerate(parts[:-1]):
            current = current / part
            if made is not None and "/".join(parts[:i + 1]) in made:
                continue
            if current.is_symlink() or (current.exists() and not current.is_dir()):
                current.unlink()
            if not current.exists():
                current.mkdir()
            if made is not None:
                made.add("/".join(parts[:i + 1]))
    target = os.path.join(root, rel)   # a string: thousands of files, no Path object each
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        fd = os.open(target, flags, 0o666)
    except FileExistsError:  # a hard link or a symlink from the current tree: replace it, never follow it
        os.unlink(target)
        fd = os.open(target, flags, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _remove_empty_dirs(root: Path, rel: str) -> None:
    parent = (root / rel).parent
    while parent != root:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def write(plan: Plan, tree: dict[str, bytes], clean_orphans: bool = False,
          lock_timeout: float | None = None) -> list[str]:
    """Apply `plan` to its output directory; returns the paths written or deleted."""
    output_dir = plan.output_dir
    writes = [c.path for c in plan.changes if c.action in ("add", "update")]
    deletes = [c.path for c in plan.changes if c.action == "delete"] if clean_orphans else []
    if not writes and not deletes:
        return []
    if output_dir.is_symlink() or (output_dir.exists() and not output_dir.is_dir()):
        raise WriteError(f"{output_dir} is not a directory psot can replace (a symlink or a file); "
                         "remove it or choose another output directory")
    if output_dir.is_dir() and os.path.ismount(output_dir):
        raise WriteError(f"{output_dir} is a mount point: psot replaces the output directory by renaming a new "
                         "one into its place, which cannot be done to a mount point; choose a directory inside it "
                         "as the output directory")
    try:
        with locked(output_dir, lock_timeout):
            _recover(output_dir)
            if plan.base != tree_identity(output_dir):
                # Another sync wrote after this plan read the tree: the files the plan calls
                # unchanged would come from that sync's tree, a mix of both. Plan again.
                plan = make_plan(tree, output_dir)
                writes = [c.path for c in plan.changes if c.action in ("add", "update")]
                deletes = [c.path for c in plan.changes if c.action == "delete"] if clean_orphans else []
                if not writes and not deletes:
                    return []
            staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}{_NEW}", dir=output_dir.parent))
            try:
                if output_dir.exists():
                    _copy_dir_metadata(output_dir, staging)
                    _copy_links(output_dir, staging, set(writes) | set(deletes))
                else:
                    umask = os.umask(0)
                    os.umask(umask)
                    os.chmod(staging, 0o777 & ~umask)
                batch = _syncfs_function() is not None   # one syncfs below instead of an fsync per file
                made: set[str] = set()
                for rel in writes:
                    _write_file(staging, rel, tree[rel], fsync=not batch, made=made)
                # The record of what this sync owns, for drift detection (see plan.py). Orphans kept
                # on disk stay in it: a file without a header (a kernel command line) is known to be
                # psot's only from here, and would otherwise never be cleaned.
                kept = {c.path for c in plan.changes if c.action == "delete"} - set(deletes)
                recorded = read_manifest(output_dir)
                owned = {rel: digest(content) for rel, content in tree.items()}
                owned.update({rel: recorded.get(rel) or digest((output_dir / rel).read_bytes()) for rel in kept})
                _write_file(staging, MANIFEST, manifest_bytes(owned), fsync=not batch, made=made)
                for rel in deletes:
                    _remove_empty_dirs(staging, rel)
                if batch and not _syncfs(staging):
                    _fsync_files(staging, writes + [MANIFEST])
                fsync_dir(staging)
                _swap(staging, output_dir)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            fsync_dir(output_dir.parent)
    except OSError as exc:
        raise WriteError(f"cannot write {output_dir}: {exc.strerror or exc}") from exc
    return writes + deletes


def _swap(staging: Path, output_dir: Path) -> None:
    """Put the staged tree at `output_dir`; afterwards `staging` holds the old tree (or nothing)."""
    if not output_dir.exists():
        os.rename(staging, output_dir)
        return
    if exchange(staging, output_dir):
        return
    old = output_dir.parent / f".{output_dir.name}{_OLD}{os.getpid()}"
    os.rename(output_dir, old)
    os.rename(staging, output_dir)
    shutil.rmtree(old, ignore_errors=True)
