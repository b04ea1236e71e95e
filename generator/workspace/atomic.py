"""Writing a file so that a reader, or a crash, finds the old content or the new, never a part of either.

Every file psot writes outside the generated tree is written here: the applied state and the record of
the last apply (apply/state.py), the no-op record (workspace/cache.py), a saved plan (`psot plan --out`)
and the starter infra.yml (`psot init`). The generated tree itself is swapped whole by writer.py, which
builds on `exchange` and `fsync_dir`.

- `replace_file`: the content goes to a temporary file beside the target (created O_EXCL), which is
  flushed to disk, then renamed over the target, and the directory is flushed too, so the rename
  itself survives a crash.
- `create_file`: the same, except that the temporary file gets its name with link(2), which fails
  with EEXIST when anything has that name (a file made a moment after psot looked, a dangling
  symlink), so nothing is ever replaced; where the filesystem has no hard links,
  renameat2(RENAME_NOREPLACE) makes the same promise.
- `exchange`: two directories swap places in one renameat2(RENAME_EXCHANGE).

A temporary file is named `.NAME.psot-*` (`NAME.psot-*` when NAME is hidden already, so that the
temporary file of `.generated.psot-cache` is still covered by the `.generated.psot-*` ignore line).
"""

from __future__ import annotations

import ctypes
import errno
import os
import tempfile
from pathlib import Path

_AT_FDCWD = -100
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2          # linux/fs.h
# link(2) failing for these reasons means "no hard links here", not "the name is taken".
_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS)


def new_file_mode() -> int:
    """The mode a new file gets from the umask (0666 without the umask's bits)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def fsync_dir(path: Path) -> None:
    """Flush the directory `path` (the names it holds) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary(path: Path, content: bytes, mode: int) -> str:
    """A new file beside `path` holding `content`, flushed to disk, with `mode`: its name."""
    hidden = path.name if path.name.startswith(".") else f".{path.name}"
    fd, temporary = tempfile.mkstemp(prefix=f"{hidden}.psot-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fchmod(out.fileno(), mode)    # mkstemp's 0600, or the mode asked for
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def replace_file(path: Path, content: bytes, *, mode: int | None = None) -> None:
    """`path` holds `content` (in place of whatever had the name), whole or not at all, on disk.

    `mode`: the new file's mode; by default the one any new file gets (the umask's). A symlink at
    `path` is replaced, never followed.
    """
    temporary = _temporary(path, content, new_file_mode() if mode is None else mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    fsync_dir(path.parent)


def create_file(path: Path, content: bytes) -> None:
    """Create `path` holding `content`, whole or not at all, and never in place of anything already there.

    FileExistsError when the name is taken, also when it was taken after the caller looked.
    """
    temporary = _temporary(path, content, new_file_mode())
    try:
        try:
            os.link(temporary, path, follow_symlinks=False)
        except OSError as exc:   # EEXIST (FileExistsError) is not in the list: it goes up as it is
            if exc.errno not in _NO_HARD_LINKS:
                raise
            _rename_noreplace(Path(temporary), path)
        fsync_dir(path.parent)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def _renameat2(source: Path, target: Path, flags: int) -> int | None:
    """renameat2(2): 0 when it renamed, the errno when it did not, None where libc has no renameat2."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags) == 0:
        return 0
    return ctypes.get_errno()


def _rename_noreplace(source: Path, target: Path) -> None:
    err = _renameat2(source, target, _RENAME_NOREPLACE)
    if err is None:
        raise OSError(errno.ENOTSUP, "this system can neither hard-link nor rename without replacing", str(target))
    if err == errno.EEXIST:
        raise FileExistsError(err, os.strerror(err), str(target))
    if err:
        raise OSError(err, os.strerror(err), str(target))


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories; False when the platform (kernel, filesystem) cannot."""
    err = _renameat2(a, b, _RENAME_EXCHANGE)
    if err == 0:
        return True
    if err is None or err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
