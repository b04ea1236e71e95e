"""Plan stage: the rendered tree against generated/ on disk, per file and key.

Like `terraform plan`, a plan lists what will be added (`+`), changed (`~`)
and destroyed (`-`). Files are compared byte for byte, because bytes are
what apply sends and other YAML readers than PyYAML read (Go's, in Incus,
Compose and kubectl); each changed YAML file lists the keys that differ as
data, or says it holds the same data in other bytes. psot's own output is
deterministic, so only a hand edit or another psot version gives such a
change. Files psot generated earlier that the new tree no longer has are
orphans: planned for deletion, deleted by `sync --clean-orphans`.

Every sync records the SHA-256 of each file it owns in
`.psot/manifest.json` inside the output directory (written with the tree,
deterministic, so it reviews like the rest). A file whose content no longer
matches its record was edited by hand: the plan reports it as drift, with
the first line that differs from what psot would write, and `sync` will not
overwrite it without `--force`. The manifest also names the files psot owns
that carry no header (a kernel command line).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator.diagnostics.findings import one_line
from generator.plan.marks import sign
from generator.serialize import HEADER_MARK, load_yaml

YAML_SUFFIXES = (".yml", ".yaml")
STATE_DIR = ".psot"
MANIFEST = f"{STATE_DIR}/manifest.json"


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def manifest_bytes(owned: dict[str, str]) -> bytes:
    """The record of what a sync wrote: every file psot owns and its SHA-256, sorted."""
    body = {"psot": 1, "files": dict(sorted(owned.items()))}
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


def read_manifest(root: Path) -> dict[str, str]:
    """Path -> recorded SHA-256 of the last sync, {} when there is none (or it is unreadable)."""
    try:
        body = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        files = body["files"]
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


@dataclass(frozen=True)
class Drift:
    """A generated file edited by hand since psot wrote it."""
    path: str
    line: int      # first line that differs from what psot would write now (1 when it would delete it)

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line}


@dataclass(frozen=True)
class Change:
    path: str
    action: str               # add, update, delete
    keys: tuple[str, ...] = ()
    # An update whose bytes differ while PyYAML reads the same data: other readers may not (a `<<:`
    # merge after an explicit key wins in Go's YAML, loses in PyYAML), so it is still a change.
    same_data: bool = False

    def to_dict(self) -> dict:
        body: dict[str, object] = {"path": self.path, "action": self.action, "keys": list(self.keys)}
        if self.same_data:
            body["same_data"] = True   # only on such an update: the shape of every other change is unchanged
        return body


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    output_dir: Path = field(compare=False)
    drift: tuple[Drift, ...] = ()
    # tree_identity() of output_dir when the plan read it: the writer re-plans if it changed since.
    base: tuple | None = field(default=None, compare=False)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def summary(self) -> dict:
        return {"add": self.count("add"), "update": self.count("update"), "delete": self.count("delete")}

    def to_dict(self) -> dict:
        return {"changes": [c.to_dict() for c in self.changes], "summary": self.summary,
                "drift": [d.to_dict() for d in self.drift]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_text(self) -> str:
        """For people: paths and keys escaped to one line each (a file on disk may have any name)."""
        where = one_line(self.output_dir.name)
        if not self.changes:
            return f"No changes. {where}/ is up to date.\n"
        lines = []
        for change in self.changes:
            lines.append(f"{sign(change.action)} {one_line(change.path)}")
            lines.extend(f"    {one_line(key)}" for key in change.keys)
            if change.same_data:
                lines.append("    (same data to PyYAML, other bytes: written again exactly as psot renders it)")
        if self.drift:
            lines.append("")
            lines.append("Edited by hand since the last sync (psot will not overwrite these without --force):")
            lines.extend(f"  ! {where}/{one_line(d.path)}:{d.line}" for d in self.drift)
        s = self.summary
        lines.append("")
        lines.append(f"Plan: {s['add']} to add, {s['update']} to change, {s['delete']} to destroy.")
        return "\n".join(lines) + "\n"


def is_generated(content: bytes) -> bool:
    """A file psot wrote: its first line is psot's header."""
    first = content.split(b"\n", 1)[0]
    return HEADER_MARK.encode() in first


# How often a read of generated/ is retried while other syncs keep swapping it.
_READ_ATTEMPTS = 50


def _consistent(root: Path, read):
    """(tree_identity, read(root)) from one tree, never half of one and half of the next.

    A sync swaps a whole new directory into `root`; a read that spans the
    swap can miss files (they vanish with the old tree) or mix both trees.
    The identity of `root` is the same before and after a clean read.
    """
    for _ in range(_READ_ATTEMPTS):
        base = tree_identity(root)
        try:
            result = read(root)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if tree_identity(root) == base:
            return base, result
    raise OSError(errno.EAGAIN, f"{root} kept changing while psot read it (other syncs are running); run again")


def read_tree(root: Path) -> dict[str, bytes]:
    """Regular files under `root` by relative path; symlinks are never followed."""
    return _consistent(root, _read_files)[1]


def _read_files(root: Path) -> dict[str, bytes]:
    """Each directory's files (sorted), then its subdirectories, as os.walk visits them."""
    return _walk_files(root, {})[0]


def _walk_files(root: Path, known: Mapping[str, str]) -> tuple[dict[str, bytes], set[str]]:
    """The files under `root` read, but those `known` names (proven unchanged: their content is the hash
    known gives), which are only listed; the kind of every entry comes from the directory listing itself
    (no stat per file)."""
    tree: dict[str, bytes] = {}
    listed: set[str] = set()
    if not root.is_dir() or root.is_symlink():
        return tree, listed

    def walk(directory: str, prefix: str) -> None:
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return  # as os.walk: a directory that cannot be listed is skipped
        subdirectories = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if prefix or entry.name != STATE_DIR:
                    subdirectories.append(entry)
            elif entry.is_file(follow_symlinks=False):
                rel = prefix + entry.name
                if rel in known:
                    listed.add(rel)
                    continue
                with open(entry.path, "rb") as fh:
                    tree[rel] = fh.read()
        for entry in subdirectories:
            walk(entry.path, f"{prefix}{entry.name}/")

    walk(str(root), "")
    return tree, listed


def changed_keys(old: bytes, new: bytes) -> tuple[str, ...] | None:
    """Dotted keys that differ between two YAML files; () when equal as data; None if unreadable."""
    try:
        before, after = load_yaml(old), load_yaml(new)
    except yaml.YAMLError:
        return None
    if before == after:
        return ()
    from deepdiff import DeepDiff  # a tenth of a second to import; only a changed YAML file needs it
    diff = DeepDiff(before, after, view="tree", verbose_level=0)
    keys = set()
    for level in diff.values():
        for item in level:
            parts = []
            for part in item.path(output_format="list"):
                if isinstance(part, int):
                    break  # a list changed: name the list, not an index into it
                parts.append(str(part))
            keys.add(".".join(parts) if parts else "(whole file)")
    return tuple(sorted(keys))


def _first_difference(old: bytes, new: bytes | None) -> int:
    if new is None:
        return 1
    a, b = old.decode("utf-8", "replace").splitlines(), new.decode("utf-8", "replace").splitlines()
    for tag, i1, _, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            return i1 + 1
    return 1


def tree_identity(output_dir: Path) -> tuple | None:
    """Which tree is at `output_dir` now. Every write puts a new directory there (see writer.py),
    so a sync that wrote since shows as another inode (or, were the inode reused, another ctime)."""
    try:
        st = os.lstat(output_dir)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_ctime_ns)


def make_plan(tree: dict[str, bytes], output_dir: Path, known: Mapping[str, str] | None = None) -> Plan:
    """The plan of `tree` against `output_dir`. `known`: files proven unchanged since the last sync
    (workspace/incremental.py), path -> SHA-256 of their content, which are not read unless they change."""
    def read(root: Path) -> tuple[dict[str, bytes], set[str], dict[str, str]]:
        recorded = read_manifest(root)
        # Only a hash the manifest records too: a file whose hash differs from it is drift, which needs its bytes.
        trusted = {p: h for p, h in (known or {}).items() if recorded.get(p) == h}
        return (*_walk_files(root, trusted), recorded)

    base, (on_disk, listed, recorded) = _consistent(output_dir, read)
    changed = [p for p in sorted(listed) if p not in tree or digest(tree[p]) != recorded[p]]
    if changed:
        again, extra = _consistent(output_dir, lambda root: {p: (root / p).read_bytes() for p in changed})
        if again != base:
            return make_plan(tree, output_dir)   # another sync swapped the tree meanwhile: read it all
        on_disk.update(extra)
        listed.difference_update(changed)
    drift = tuple(Drift(p, _first_difference(on_disk[p], tree.get(p)))
                  for p, h in sorted(recorded.items()) if p in on_disk and digest(on_disk[p]) != h)
    changes = []
    owned = {p for p, c in on_disk.items() if is_generated(c) or p in recorded} | listed
    for path in sorted(set(tree) | owned):
        if path in listed:
            continue   # on disk, unchanged since the last sync, and that is what the tree has
        if path not in on_disk:
            changes.append(Change(path, "add"))
        elif path not in tree:
            changes.append(Change(path, "delete"))
        elif on_disk[path] != tree[path]:
            if path.endswith(YAML_SUFFIXES):
                # Any other byte is a change: what is applied is these bytes, read by other YAML readers
                # than PyYAML. The keys say what changed as data, when something did.
                keys = changed_keys(on_disk[path], tree[path])
                if keys is None:
                    keys = ("(file is not valid YAML)",)
                changes.append(Change(path, "update", keys, same_data=keys == ()))
            else:
                changes.append(Change(path, "update"))
    return Plan(tuple(changes), output_dir, drift, base)
