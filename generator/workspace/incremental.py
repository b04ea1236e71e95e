"""Incremental compilation: what a sync leaves beside the output directory so that the next compile of
an input that changed a little (one machine of 8 000) re-does less (issue 21, item 2).

Two caches, beside `generated/` like the no-op record (cache.py): machine-local, covered by the
`.generated.psot-*` ignore line, readable by their owner only, written by `psot sync` alone (plan,
validate and apply only read them), keyed on psot's fingerprint (fingerprint.py: its code, schemas,
templates, Python, PyYAML, libyaml and Jinja2). One that cannot be read, is cut short, is of another
psot or another output directory, or fails its checksum is ignored whole: the compile does the work.

- `.NAME.psot-render`: rendered files by content. A file's bytes are a function of the data its
  renderer returned and the header's source label, given psot's code (the serialiser, serialize.py):
  the key is the SHA-256 of the label and of that data pickled, which records every value with its
  type (True is not 1, 1.0 is not 1, a str subclass is not a str), every mapping in its key order and
  every container shared twice (PyYAML writes an anchor for those). The renderers still run (their
  output is the key); what a hit saves is the YAML dump, which is most of the render stage. Equal data
  always gives equal bytes, so a hit can never be stale; a miss only costs the dump.
- `.NAME.psot-files`: which files on disk are still what the last sync wrote, by their stat: each
  file's SHA-256 with its size, mtime_ns, ctime_ns, inode and device. A plan then reads only the files
  whose stat differs (and those the record does not name); every other file's content is its recorded
  hash. Any write to a file changes its ctime, which no program can set back, so a hand edit is seen
  unless it lands in the same clock tick as the write the record vouches for: a file is recorded only
  when its ctime is older, by MARGIN_NS, than the tree's manifest (written after every file, before
  the tree is swapped into place, where users can first reach it), else it is read next time as always.
  A file the sync did not write (kept from the previous tree as a hard link, which changes its ctime) is
  recorded only when its content is proven: by the previous record (same inode, size and mtime, same
  hash), else by reading it. A file whose hash is not the one the manifest on disk records (another
  sync swapped its tree in meanwhile) is not recorded; a plan trusts a record only for the hash the
  manifest records, too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

from generator.plan.changes import MANIFEST, digest, read_manifest
from generator.serialize import file_bytes
from generator.workspace import sidecars
from generator.workspace.atomic import replace_file
from generator.workspace.fingerprint import fingerprint

RENDER_VERSION = 1
FILES_VERSION = 1
# Coarser than any kernel's timestamp clock tick (jiffies: 10 ms at HZ=100, the coarsest in use).
MARGIN_NS = 50_000_000


def _read_no_follow(path: Path) -> bytes:
    """A cache's bytes; a symlink planted in its place is not followed (OSError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def _save(path: Path, content: bytes) -> None:
    """Readers see the old cache or the new one, never half of one; a cache that cannot be written is none."""
    with contextlib.suppress(OSError):
        replace_file(path, content, mode=0o600)


class RenderMemo:
    """Rendered bytes by content key (see the module docstring), with what this compilation rendered."""

    def __init__(self, known: dict[bytes, bytes] | None = None) -> None:
        self._known = known or {}
        self.used: dict[bytes, bytes] = {}   # every key this compilation rendered: the next cache
        self.hits = 0

    @classmethod
    def beside(cls, output_dir: Path) -> RenderMemo:
        """The memo the last sync of `output_dir` left; an empty one when there is none to trust."""
        return cls(read_store(sidecars.render_cache(output_dir), "psot-render", RENDER_VERSION))

    def file_bytes(self, data: Any, source: str) -> bytes:
        """serialize.file_bytes(data, source), from the memo when the same data was rendered before."""
        try:
            key = hashlib.sha256(source.encode() + b"\0" + pickle.dumps(data, protocol=5)).digest()
        except (pickle.PicklingError, TypeError, AttributeError):
            return file_bytes(data, source)   # data pickle cannot record: no key, no cache
        content = self._known.get(key)
        if content is None:
            content = file_bytes(data, source)
        else:
            self.hits += 1
        self.used[key] = content
        return content

    def save(self, output_dir: Path) -> None:
        """Leave what this compilation rendered (and only that: the cache never grows past one tree)."""
        write_store(sidecars.render_cache(output_dir), "psot-render", RENDER_VERSION, self.used)


def read_store(path: Path, tag: str, version: int) -> dict[bytes, bytes]:
    """A cache of blobs by key: a JSON header line (`tag`: its version, psot's fingerprint, the SHA-256 of
    the blobs, each key and length), then the blobs. {} when it cannot be trusted whole."""
    try:
        head, _, blob = _read_no_follow(path).partition(b"\n")
        header = json.loads(head)
        if not isinstance(header, dict) or header.get(tag) != version or header.get("psot") != fingerprint() \
                or header.get("sha256") != digest(blob):
            return {}
        known, offset = {}, 0
        for key, length in header["entries"]:
            known[bytes.fromhex(key)] = blob[offset:offset + length]
            offset += length
    except (OSError, ValueError, TypeError, KeyError):
        return {}
    return known if offset == len(blob) else {}


def write_store(path: Path, tag: str, version: int, entries: dict[bytes, bytes]) -> None:
    """Leave `entries` as read_store reads them."""
    keys = sorted(entries)
    blob = b"".join(entries[k] for k in keys)
    header = {tag: version, "psot": fingerprint(), "sha256": digest(blob),
              "entries": [[k.hex(), len(entries[k])] for k in keys]}
    _save(path, json.dumps(header).encode() + b"\n" + blob)


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _files_record(output_dir: Path) -> dict | None:
    try:
        record = json.loads(_read_no_follow(sidecars.files_record(output_dir)))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("psot-files") != FILES_VERSION or \
            record.get("psot") != fingerprint() or record.get("output_dir") != str(output_dir.absolute()):
        return None
    return record


def _manifest_key(output_dir: Path) -> list | None:
    """The manifest's stat and hash: the tree a files record is of."""
    try:
        st = os.lstat(output_dir / MANIFEST)
        return [*_stat_key(st), digest((output_dir / MANIFEST).read_bytes())] if stat.S_ISREG(st.st_mode) else None
    except OSError:
        return None


def unchanged_files(output_dir: Path) -> dict[str, str]:
    """Path -> SHA-256 of every file under `output_dir` proven unchanged since the last sync recorded it."""
    record = _files_record(output_dir)
    if record is None or record.get("manifest") != _manifest_key(output_dir):
        return {}
    files = record.get("files")
    if not isinstance(files, dict):
        return {}
    root, known = str(output_dir), {}
    for path, entry in files.items():
        try:
            st = os.lstat(os.path.join(root, path))
        except (OSError, TypeError, ValueError):
            continue
        if isinstance(entry, list) and len(entry) == 6 and stat.S_ISREG(st.st_mode) and entry[1:] == _stat_key(st):
            known[path] = entry[0]
    return known


def record_files(output_dir: Path, tree: dict[str, bytes], written: Collection[str]) -> None:
    """Leave the files record of `output_dir`, whose files a sync just made `tree` (`written`: those it wrote)."""
    manifest = _manifest_key(output_dir)
    if manifest is None:
        return
    # What the manifest on disk records: another sync may have swapped its tree in since this one wrote.
    owned = read_manifest(output_dir)
    previous = (_files_record(output_dir) or {}).get("files")
    before: dict = previous if isinstance(previous, dict) else {}
    written, root = set(written), str(output_dir)
    limit = manifest[2] - MARGIN_NS   # the manifest's ctime, less a clock tick or more
    files = {}
    for path, content in tree.items():
        full = os.path.join(root, path)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_ctime_ns >= limit:
            continue   # too recent to tell from an edit in the same clock tick: read next time
        sha, key = digest(content), _stat_key(st)
        if owned.get(path) != sha:
            continue   # not the file this sync wrote there
        old = before.get(path)
        proven = path in written or (isinstance(old, list) and len(old) == 6 and old[0] == sha
                                     and [old[1], old[2], old[4], old[5]] == [key[0], key[1], key[3], key[4]])
        if not proven:
            try:
                proven = digest(Path(full).read_bytes()) == sha and _stat_key(os.lstat(full)) == key
            except OSError:
                continue
        if proven:
            files[path] = [sha, *key]
    body = {"psot-files": FILES_VERSION, "psot": fingerprint(), "output_dir": str(output_dir.absolute()),
            "manifest": manifest, "files": files}
    _save(sidecars.files_record(output_dir), json.dumps(body).encode())
