"""What psot keeps beside an output directory, named in one place.

Beside `generated/` (or any output directory NAME) psot keeps only names that start
`.NAME.psot-`, so one `.gitignore` line (`.generated.psot-*`) covers them all:

- `.NAME.psot-lock`: the lock every sync, apply and rollback holds (writer.locked);
- `.NAME.psot-cache`: the record that answers a no-op sync (sync_cache);
- `.NAME.psot-render`, `.NAME.psot-files` and `.NAME.psot-parse`: the incremental caches, rendered
  files by content, the files on disk proven unchanged since the last sync (incremental) and the
  parsed top-level entries of infra.yml by content (parse_cache);
- `.NAME.psot-state/`: the applied state and the record of the last apply (apply/state);
- `.NAME.psot-new-*` and `.NAME.psot-old-*`: a sync's staging tree and the tree it moved
  aside, both gone when the sync ends (writer; a killed sync's are cleaned by the next run).
"""

from __future__ import annotations

from pathlib import Path

STAGING = ".psot-new-"       # after `.NAME`: the tree a sync builds before the swap
MOVED_ASIDE = ".psot-old-"   # after `.NAME`: the old tree, between the two renames of the fallback swap


def _beside(output_dir: Path, suffix: str) -> Path:
    return output_dir.parent / f".{output_dir.name}{suffix}"


def lock(output_dir: Path) -> Path:
    return _beside(output_dir, ".psot-lock")


def cache(output_dir: Path) -> Path:
    return _beside(output_dir, ".psot-cache")


def render_cache(output_dir: Path) -> Path:
    return _beside(output_dir, ".psot-render")


def files_record(output_dir: Path) -> Path:
    return _beside(output_dir, ".psot-files")


def parse_cache(output_dir: Path) -> Path:
    return _beside(output_dir, ".psot-parse")


def state(output_dir: Path) -> Path:
    return _beside(output_dir, ".psot-state")
