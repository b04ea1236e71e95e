"""The applied state: what reached the machines, file by file.

Kept beside the output directory, in `.<output>.psot-state/` (git ignores
it: it describes this machine's platforms, not the repository):

- `applied/`: a mirror of every generated file as it was last applied. A
  file is copied there only once all the commands that apply it succeeded.
- `previous/`: `applied/` as it was before the last apply or rollback that
  changed something; what `psot rollback` goes back to.
- `rolled-back/`: while a rollback has not completed, `applied/` as it was
  when that rollback started: what `previous/` becomes once it completes
  (resumed after a failure, the rollback still goes back to `previous/`,
  and a second rollback still goes forward to this).
- `mode.json`: the active GPU mode (`psot switch`): the mode last switched
  to, the one before it, the side each card was left on (`cards`: vfio-pci
  or host), and while a switch has not completed, the switch under way
  (from, to, the steps done), which a re-run finishes.
- `switch-tree/`: the files of the mode a switch goes to, which the
  commands that read a file themselves (Compose's `-f`) read.
- `last-apply.json`: the record of the last run: every command, its exit
  status and the tail of its error output, which files were applied and
  which were not. It is rewritten after every unit, so a run that dies
  half-way still says how far it got.

Every file is written atomically and durably (workspace/atomic.py),
readable by its owner only; `previous/` is staged aside whole, then renamed
into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from generator.plan.changes import digest, read_tree
from generator.workspace import sidecars
from generator.workspace.atomic import fsync_dir, replace_file

RECORD = "last-apply.json"
MODE = "mode.json"
PRIVATE = 0o600   # the mode of every file of the state: it describes this machine


def state_dir(output_dir: Path) -> Path:
    return sidecars.state(output_dir)


def tree_digest(tree: dict[str, bytes]) -> str:
    """One SHA-256 over a whole tree: every path and the SHA-256 of its content, sorted."""
    h = hashlib.sha256()
    for path, content in sorted(tree.items()):
        h.update(path.encode() + b"\0" + digest(content).encode() + b"\n")
    return h.hexdigest()


def _safe_rel(rel: str) -> str:
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
        raise ValueError(f"refusing a state path outside the state directory: {rel!r}")
    return rel


class State:
    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.root = state_dir(output_dir)
        self.applied_dir = self.root / "applied"
        self.previous_dir = self.root / "previous"
        self.rolled_back_dir = self.root / "rolled-back"
        self.record_path = self.root / RECORD
        self.mode_path = self.root / MODE
        self.switch_tree_dir = self.root / "switch-tree"

    def applied(self) -> dict[str, bytes]:
        return read_tree(self.applied_dir)

    def previous(self) -> dict[str, bytes] | None:
        return read_tree(self.previous_dir) if self.previous_dir.is_dir() else None

    def digest(self) -> str:
        return tree_digest(self.applied())

    def record_file(self, rel: str, content: bytes | None) -> None:
        """`rel` is now applied with `content` (None: no longer on the machines)."""
        target = self.applied_dir / _safe_rel(rel)
        if content is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_file(target, content, mode=PRIVATE)
            return
        if target.is_file() or target.is_symlink():
            target.unlink()
        parent = target.parent
        while parent != self.applied_dir and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    def rolled_back(self) -> dict[str, bytes] | None:
        return read_tree(self.rolled_back_dir) if self.rolled_back_dir.is_dir() else None

    def snapshot_previous(self, tree: dict[str, bytes] | None = None) -> None:
        """previous/ := `tree` (default: applied/)."""
        self._replace_dir(self.previous_dir, self.applied() if tree is None else tree)

    def keep_rolled_back(self, tree: dict[str, bytes]) -> None:
        """rolled-back/ := `tree`, the applied state a rollback starts from."""
        self._replace_dir(self.rolled_back_dir, tree)

    def drop_rolled_back(self) -> None:
        if self.rolled_back_dir.exists():
            shutil.rmtree(self.rolled_back_dir)
            fsync_dir(self.root)

    def _replace_dir(self, directory: Path, tree: dict[str, bytes]) -> None:
        """`directory` := `tree`, staged aside first (every file on disk), then renamed into place; the state
        directory is flushed last, so the rename survives a crash too."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=self.root))
        for rel, content in tree.items():
            dest = staging / _safe_rel(rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            replace_file(dest, content, mode=PRIVATE)
        old = None
        if directory.exists():
            old = self.root / f".{directory.name}-old-{os.getpid()}"
            os.rename(directory, old)
        os.rename(staging, directory)
        fsync_dir(self.root)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def keep_switch_tree(self, tree: dict[str, bytes]) -> None:
        """switch-tree/ := `tree`, the files of the mode a switch goes to."""
        self._replace_dir(self.switch_tree_dir, tree)

    def write_mode(self, mode: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        replace_file(self.mode_path, (json.dumps(mode, indent=2, sort_keys=True) + "\n").encode(), mode=PRIVATE)

    def read_mode(self) -> dict | None:
        """mode.json, or None when no switch was made (or it cannot be read)."""
        try:
            body = json.loads(self.mode_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return body if isinstance(body, dict) else None

    def write_record(self, record: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        replace_file(self.record_path, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode(), mode=PRIVATE)

    def read_record(self) -> dict | None:
        try:
            body = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return body if isinstance(body, dict) else None
